import type { AuditEntry, AuditEntryDraft } from '../../domain/audit-entry.js';

export interface AppendedAuditEntry {
  seq: string;
  entry: AuditEntry;
}

/**
 * The append-only, hash-chained log. `append` joins the caller's open transaction when there is one (so an
 * entry that accompanies a write commits or rolls back with it); otherwise it commits before returning, so
 * an access is recorded before its response leaves.
 */
export abstract class AuditLog {
  abstract append(drafts: readonly AuditEntryDraft[]): Promise<AppendedAuditEntry[]>;
}
