import type { SyncRunState } from '../../domain/sync-run.js';

/** What operators graph about syncs (Prometheus in production). */
export abstract class SyncMetrics {
  abstract runSettled(provider: string, outcome: SyncRunState, durationSeconds: number): void;
  abstract recordsApplied(
    entity: string,
    action: 'created' | 'updated' | 'restored' | 'deactivated' | 'skipped',
    count: number,
  ): void;
  abstract sisRequest(provider: string, status: number | 'error', retry: boolean): void;
}
