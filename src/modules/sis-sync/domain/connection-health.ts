import type { SyncMode, SyncRunState, SyncTrigger } from './sync-run.js';

/** How a connection's syncs are going, for `GET /sis/connections/{id}/health`. Dry runs are left out. */
export interface ConnectionHealth {
  connectionId: string;
  enabled: boolean;
  /** The newest run that applied its changes (succeeded or succeeded with issues). */
  lastSuccess: { runId: string; at: Date } | null;
  /** Failed runs since the last success (all of them when there was none). */
  consecutiveFailures: number;
  /** The newest failed run. */
  lastError: { code: string | null; message: string | null; runId: string; at: Date } | null;
  /** The schedule's next tick outside blackout windows; null without a schedule or when the connection is disabled. */
  nextScheduledRun: Date | null;
  /** When the SIS said the last access token expires; null when unknown or never said. */
  tokenExpiresAt: Date | null;
  /** When that token was obtained (during a run or a connection test). */
  tokenObservedAt: Date | null;
  /** The queued, running or held run, if any. */
  activeRun: {
    runId: string;
    state: SyncRunState;
    mode: SyncMode;
    dryRun: boolean;
    trigger: SyncTrigger;
    createdAt: Date;
    startedAt: Date | null;
  } | null;
}

/** A failure streak: failed (non-dry) runs since the last success, newest first. */
export interface FailureStreak {
  count: number;
  /** The oldest failed run of the streak: identifies the streak. */
  firstRunId: string;
  runIds: string[];
}

/** A source read a new access token (during a run or a test). Recorded for the health view. */
export class SisTokenObtainedEvent {
  constructor(
    readonly connectionId: string,
    readonly expiresAt: Date | null,
    readonly observedAt: Date,
  ) {}
}
