/**
 * Server-to-client socket events, with their payloads. Clients can rely on these names and shapes; a
 * breaking change gets a new event name.
 */
export interface RealtimeEventCatalogue {
  /** The connection's session ended (logout, account disabled, roles changed, token expired). */
  'session.ended': { reason: 'logout' | 'access-changed' | 'token-expired' | 'revoked' };
  /** A room join was refused or accepted (also sent as the ack of `room.join`). */
  'room.joined': { room: string };
  /** A sync run changed state (rooms `sync-run:<id>` and `sis-ops`). */
  'sis-sync.run-state': {
    runId: string;
    connectionId: string;
    state: 'queued' | 'running' | 'held' | 'succeeded' | 'succeeded_with_issues' | 'failed' | 'cancelled';
    dryRun: boolean;
    issueCount: number;
    counts: Record<string, Record<string, number>>;
    errorCode: string | null;
  };
  /** Progress inside a running sync run, throttled (rooms `sync-run:<id>` and `sis-ops`). */
  'sis-sync.run-progress': {
    runId: string;
    connectionId: string;
    phase: 'pull' | 'review' | 'apply' | 'deactivate';
    entity: string;
    processed: number;
  };
}

export type RealtimeEventName = keyof RealtimeEventCatalogue;
export type RealtimeEventPayload<N extends RealtimeEventName> = RealtimeEventCatalogue[N];

/** Ack returned for `room.join` / `room.leave`: rejections are explicit, never silence. */
export type RoomJoinAck = { ok: true; room: string } | { ok: false; room: string; code: string; message: string };
