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
