import type { CheckpointRecord } from '@app/audit-chain';

/** The signed checkpoints (append-only). */
export abstract class AuditCheckpointRepository {
  /**
   * Makes concurrent signers take turns until the surrounding transaction ends, so two of them cannot both
   * sign checkpoint N. Must run inside a transaction.
   */
  abstract lockForSigning(): Promise<void>;
  abstract latest(): Promise<CheckpointRecord | null>;
  abstract insert(checkpoint: CheckpointRecord): Promise<void>;
  /** Every checkpoint, oldest first. */
  abstract all(): Promise<CheckpointRecord[]>;
  /** Newest first, those with an id below `beforeId` when given. */
  abstract page(limit: number, beforeId?: number): Promise<CheckpointRecord[]>;
}
