import { Query } from '@nestjs/cqrs';

export const ACTIVE_SYNC_RUN_STATES = ['queued', 'running', 'held'] as const;
export type ActiveSyncRunState = (typeof ACTIVE_SYNC_RUN_STATES)[number];

/** What operators alert on about SIS sync, read from the database (the same in every process). */
export interface SyncOperationsStatus {
  /** Every connection that is not deleted (bounded by configuration). */
  connections: {
    connectionId: string;
    /** When the last successful non-dry run finished; null when none ever did. */
    lastSuccessAt: Date | null;
    /** Failed non-dry runs since that success. */
    consecutiveFailures: number;
  }[];
  /** Active runs by state, and since when the oldest has been in it (held: since it was held). */
  activeRuns: Record<ActiveSyncRunState, { count: number; oldestSince: Date | null }>;
  /** Running runs whose lease expired: their worker died or hangs (the recovery job requeues them). */
  stalledRuns: number;
}

/** Answered by the sis-sync module, in every process role. */
export class GetSyncOperationsStatusQuery extends Query<SyncOperationsStatus> {}

/** What operators alert on about the audit chain, read from the database. */
export interface AuditIntegrityStatus {
  /** When the newest signed checkpoint was signed; null before the first. */
  lastCheckpointAt: Date | null;
  /** The newest recorded verification of the chain, whatever its result. */
  lastVerification: { at: Date; ok: boolean; toSeq: number } | null;
  /** The newest verification that passed. */
  lastSuccessfulVerificationAt: Date | null;
}

/** Answered by the audit module, in every process role. */
export class GetAuditIntegrityStatusQuery extends Query<AuditIntegrityStatus> {}
