import type { AuditEntry } from '../../domain/audit-entry.js';

/** What operators see of the audit trail on /metrics. */
export abstract class AuditMetrics {
  abstract appended(entries: readonly AuditEntry[], seconds: number): void;
  /** Entries that could not be stored (the call was refused, or served unaudited when failing open). */
  abstract appendFailed(entries: number): void;
  abstract verified(result: { ok: boolean; at: Date }): void;
  abstract checkpointSigned(at: Date): void;
  /** A read model skipped an entry it could not apply (`projection` is e.g. `audit_denied_access@v1`). */
  abstract projectionFailed(projection: string): void;
}
