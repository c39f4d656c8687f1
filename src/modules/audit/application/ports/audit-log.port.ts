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
  /**
   * Appends the entry unless one with the same action and resource (type and id) is stored already, deciding
   * under a lock so that two callers racing over one resource (an event handler and a catch-up job) store it
   * once. Commits before returning. True when it appended.
   */
  abstract appendUnlessRecorded(draft: AuditEntryDraft): Promise<boolean>;
}
