/**
 * Server-to-client socket events, with their payloads. Clients can rely on these names and shapes; a
 * breaking change gets a new event name.
 */
export interface RealtimeEventCatalogue {
  /** The connection's session ended (logout, account disabled, roles changed, token expired). */
  'session.ended': { reason: 'logout' | 'access-changed' | 'token-expired' | 'revoked' };
  /**
   * The socket sent more messages than it may (`REALTIME_MESSAGES_PER_SECOND`): the excess is refused with
   * `REALTIME.RATE_LIMITED`; `disconnecting` when the server closes the connection for flooding.
   */
  'realtime.rate-limited': { limitPerSecond: number; disconnecting: boolean };
  /** The server took the socket out of a room it no longer qualifies for (e.g. its roles changed). */
  'room.left': { room: string; code: string };
  /** A room join was refused or accepted (also sent as the ack of `room.join`). */
  'room.joined': { room: string };
  /**
   * A sync run changed state (rooms `sync-run:<id>` and `sis-ops`; a socket in both hears it once). Joining
   * `sync-run:<id>` also sends the run's current state, before the join's ack.
   */
  'sis-sync.run-state': {
    runId: string;
    connectionId: string;
    state: 'queued' | 'running' | 'held' | 'succeeded' | 'succeeded_with_issues' | 'failed' | 'cancelled';
    dryRun: boolean;
    issueCount: number;
    counts: Record<string, Record<string, number>>;
    errorCode: string | null;
    /** When the server sent it (ISO 8601, UTC). */
    at: string;
  };
  /**
   * Progress inside a running sync run, at most twice a second per run, and always when an entity's phase reaches its
   * total (rooms `sync-run:<id>` and `sis-ops`; a socket in both hears it once).
   */
  'sis-sync.run-progress': {
    runId: string;
    connectionId: string;
    phase: 'pull' | 'review' | 'apply' | 'deactivate';
    entity: string;
    /** Records of `entity` done so far in this phase. */
    processed: number;
    /**
     * Records of `entity` this phase will process, when known: the records pulled (apply), the records the review
     * counted (deactivate of absent records). Null while pulling (the SIS does not say how many it holds).
     */
    total: number | null;
    /** When the server sent it (ISO 8601, UTC). */
    at: string;
  };
  /** An access to student data was refused and recorded in the audit trail (room `compliance`). Ids only. */
  'audit.access-denied': {
    /** The entry's place in the chain, or null when the publisher does not know it. */
    seq: string | null;
    occurredAt: string;
    action: string;
    actor: { id: string | null; roles: string[] };
    studentIds: string[];
    /** Stable error code, e.g. `ROSTER.ACCESS_DENIED`. */
    reason: string | null;
    /** `METHOD /path/:template` for HTTP calls. */
    route: string | null;
  };
  /** A verification of the audit chain found a problem (room `compliance`). */
  'audit.verification-failed': {
    /** The first entry that failed to verify, when the problem is tied to one. */
    firstBadSeq: string | null;
    problem: string;
    verifiedAt: string;
  };
  /**
   * A read model (access by student, by actor, denied accesses, disclosures) could not apply one audit entry
   * and skipped it; the entry stays in the chain, and a rebuild retries it (room `compliance`).
   */
  'audit.projection-failed': {
    /** The read model and its version, e.g. `audit_denied_access@v1`. */
    projection: string;
    seq: string;
    /** The database's SQLSTATE for the failure. */
    code: string;
    failedAt: string;
  };
}

export type RealtimeEventName = keyof RealtimeEventCatalogue;
export type RealtimeEventPayload<N extends RealtimeEventName> = RealtimeEventCatalogue[N];

/** Ack returned for `room.join` / `room.leave`: rejections are explicit, never silence. */
export type RoomJoinAck = { ok: true; room: string } | { ok: false; room: string; code: string; message: string };
