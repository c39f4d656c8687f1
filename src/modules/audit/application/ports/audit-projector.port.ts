/**
 * Keeps the audit read models (access by student, by actor, denied accesses, disclosure log) up to date with
 * the hash chain. Each read model remembers the last `seq` it applied; catching up applies what follows in
 * batches, each batch and its position committed together, so a crash or a concurrent projector in another
 * process never applies an entry twice or skips one.
 */
export abstract class AuditProjector {
  /** Applies every entry appended since the read models' positions; returns how many entries were read. */
  abstract catchUp(): Promise<number>;
  /** Empties the read models, resets their positions and replays the whole stream. */
  abstract rebuild(): Promise<number>;
}
