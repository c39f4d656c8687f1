/**
 * Drops the payload of entries older than a cutoff (their seq and hashes stay, so the chain still verifies),
 * except entries about students under an active legal hold and disclosure entries of students whose record
 * still exists. The read models lose the dropped entries in the same transaction.
 */
export abstract class AuditRetention {
  /** Purges at most `limit` entries; returns how many it purged (0 when nothing is left to purge). */
  abstract purgeBatch(cutoff: Date, limit: number): Promise<number>;
}
