/**
 * Keeps the audit read models (access by student, by actor, denied accesses, disclosure log) up to date with
 * the hash chain. Each read model remembers the last `seq` it applied; catching up applies what follows in
 * batches, each batch and its position committed together, so a crash or a concurrent projector in another
 * process never applies an entry twice or skips one. An entry a read model cannot apply is skipped, recorded
 * and reported (log, metric, `compliance` room) rather than blocking every later entry.
 */
export abstract class AuditProjector {
  /** Applies every entry appended since the read models' positions; returns how many entries were read. */
  abstract catchUp(): Promise<number>;
  /**
   * Replaces the read models with a replay of the whole stream, atomically: until it completes, readers see the
   * old rows, and a failure leaves them (and their positions) as they were. Entries skipped earlier are retried.
   */
  abstract rebuild(): Promise<number>;
}
