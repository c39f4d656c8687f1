import type { RosterEntity } from '@app/contracts';
import type {
  HoldReason,
  RunCheckpoint,
  RunCounts,
  RunPreview,
  SyncMode,
  SyncRun,
  SyncRunState,
  SyncTrigger,
} from '../../domain/sync-run.js';

export interface NewSyncRun {
  id: string;
  connectionId: string;
  mode: SyncMode;
  dryRun: boolean;
  trigger: SyncTrigger;
  requestedBy: string | null;
  importFile: string | null;
  /** The uploaded file's name, sanitised (`uploadedFileName`); absent or null for runs without an upload. */
  importFileName?: string | null;
  remaster: boolean;
  createdAt: Date;
}

export interface RunIssue {
  entity: string;
  sourcedId: string | null;
  field: string | null;
  /** `conflict`: a sticky local value kept although the SIS changed it (not an error). */
  severity: 'error' | 'warning' | 'conflict';
  message: string;
}

export interface StoredRunIssue extends RunIssue {
  id: number;
  createdAt: Date;
}

export interface EntityPull {
  entity: RosterEntity;
  complete: boolean;
  snapshot: boolean;
  records: number;
  pages: number;
}

export interface RunListFilter {
  connectionId?: string;
  state?: SyncRunState;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface SettleFields {
  preview?: RunPreview | null;
  holdReasons?: HoldReason[];
  errorCode?: string | null;
  errorMessage?: string | null;
  counts?: RunCounts;
  checkpoint?: RunCheckpoint;
}

/** Sync runs, their issues and pull progress. The database arbitrates one active run per connection. */
export abstract class SyncRunRepository {
  /** Fails with `SIS_SYNC.RUN_ALREADY_ACTIVE` when the connection already has a queued, running or held run. */
  abstract create(run: NewSyncRun): Promise<SyncRun>;

  abstract findById(id: string): Promise<SyncRun | null>;

  abstract list(filter: RunListFilter, limit: number, cursor: string | undefined): Promise<Page<SyncRun>>;

  /**
   * Takes the run for this worker: a queued run, or a running one whose lease expired (its worker died).
   * Null when another worker holds it or it is no longer runnable.
   */
  abstract claim(id: string, owner: string, leaseMs: number, now: Date): Promise<SyncRun | null>;

  /** Extends the lease; null when the lease was lost. Reports whether cancellation was requested. */
  abstract renewLease(
    id: string,
    owner: string,
    leaseMs: number,
    now: Date,
  ): Promise<{ cancelRequested: boolean } | null>;

  /** Fenced by the lease: false when this owner no longer holds the run (nothing is written then). */
  abstract saveProgress(id: string, owner: string, checkpoint: RunCheckpoint, counts: RunCounts): Promise<boolean>;

  /**
   * Inside a transaction: locks the run row if this owner still holds it, so no other worker can claim the
   * run until the transaction's writes are committed. False when the lease was lost.
   */
  abstract confirmLease(id: string, owner: string): Promise<boolean>;

  abstract recordSource(id: string, description: string, deltaSince: Date | null, mode: SyncMode): Promise<void>;

  abstract addIssues(id: string, issues: readonly RunIssue[]): Promise<void>;

  abstract listIssues(id: string, limit: number, afterId: number): Promise<StoredRunIssue[]>;

  /** The distinct (entity, sourcedId) pairs the run's issues name, for the given entities only. */
  abstract listIssueRecords(
    id: string,
    entities: readonly RosterEntity[],
  ): Promise<{ entity: RosterEntity; sourcedId: string }[]>;

  /** Keeps the change set's preview on the run (fenced by the lease like `saveProgress`). */
  abstract recordPreview(id: string, owner: string, preview: RunPreview): Promise<boolean>;

  abstract countIssues(id: string, severity: RunIssue['severity']): Promise<number>;

  /**
   * Inside a transaction: locks the connection against new runs and fails with `SIS_SYNC.RUN_ALREADY_ACTIVE`
   * when one is queued, running or held.
   */
  abstract lockConnectionIdle(connectionId: string): Promise<void>;

  /** Records a restore once; null when the run was already restored. */
  abstract markRestored(id: string, by: string | null, summary: unknown, now: Date): Promise<SyncRun | null>;

  abstract recordPull(id: string, pull: EntityPull): Promise<void>;

  abstract pulls(id: string): Promise<Map<RosterEntity, EntityPull>>;

  /** Moves a running run this owner holds to a resting state (or `held`); null when the lease was lost. */
  abstract settle(
    id: string,
    owner: string,
    state: SyncRunState,
    fields: SettleFields,
    now: Date,
  ): Promise<SyncRun | null>;

  /** held → cancelled (discarded after review); null if the run was not held. */
  abstract settleIfHeld(id: string, errorCode: string, message: string, now: Date): Promise<SyncRun | null>;

  /** held → queued with the approval recorded; null if the run was not held. */
  abstract approve(id: string, userId: string | null, now: Date): Promise<SyncRun | null>;

  /** queued → cancelled at once, or a cancellation request for a running run. Null if neither applies. */
  abstract requestCancel(id: string, now: Date): Promise<SyncRun | null>;

  /** The newest run of the connection that applied its changes successfully (dry runs excluded). */
  abstract lastSuccessful(connectionId: string, mode?: SyncMode): Promise<SyncRun | null>;

  /** Runs whose worker died (running with an expired lease) or whose job was lost (queued too long). */
  abstract findStalled(now: Date, queuedBefore: Date): Promise<SyncRun[]>;
}
