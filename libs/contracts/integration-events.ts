/**
 * Versioned events modules publish on the EventBus for other modules. The `name` is the stable contract;
 * add a new version rather than changing a published one.
 */
export abstract class IntegrationEvent<N extends string = string> {
  abstract readonly name: N;
  readonly occurredAt: string = new Date().toISOString();
}

/** One refresh-token family (a login) ended: its access tokens no longer work. */
export class SessionRevokedV1 extends IntegrationEvent<'identity.session-revoked.v1'> {
  readonly name = 'identity.session-revoked.v1';
  constructor(
    readonly userId: string,
    readonly sessionId: string,
    readonly reason: 'logout' | 'reuse-detected' | 'revoked',
  ) {
    super();
  }
}

/** A user's roles, school scope or disabled flag changed: every token issued before now stops working. */
export class UserAccessChangedV1 extends IntegrationEvent<'identity.user-access-changed.v1'> {
  readonly name = 'identity.user-access-changed.v1';
  constructor(
    readonly userId: string,
    readonly disabled: boolean,
  ) {
    super();
  }
}

export type RosterEntityName =
  'orgs' | 'academicSessions' | 'courses' | 'classes' | 'people' | 'demographics' | 'enrollments';

/**
 * Records of one entity that a sync run created, updated, restored or deactivated in the roster mirror,
 * published after each committed chunk (so at most a few thousand ids per event). Ids are local UUIDs.
 */
export class RosterRecordsChangedV1 extends IntegrationEvent<'roster.records-changed.v1'> {
  readonly name = 'roster.records-changed.v1';
  constructor(
    readonly connectionId: string,
    readonly runId: string,
    readonly entity: RosterEntityName,
    readonly created: readonly string[],
    readonly updated: readonly string[],
    readonly restored: readonly string[],
    readonly deactivated: readonly string[],
  ) {
    super();
  }
}

export type SyncRunOutcome = 'succeeded' | 'succeeded_with_issues' | 'failed' | 'cancelled' | 'held';

/** A sync run reached a resting state (finished, or held for review). */
export class SisSyncRunSettledV1 extends IntegrationEvent<'sis-sync.run-settled.v1'> {
  readonly name = 'sis-sync.run-settled.v1';
  constructor(
    readonly runId: string,
    readonly connectionId: string,
    readonly outcome: SyncRunOutcome,
    readonly dryRun: boolean,
    readonly counts: Readonly<Record<string, Readonly<Record<string, number>>>>,
  ) {
    super();
  }
}
