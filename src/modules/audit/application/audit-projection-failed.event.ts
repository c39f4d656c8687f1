/**
 * In-process: a read model could not apply one audit entry, so it skipped it (pushed to the `compliance` room).
 * The entry stays in the chain; the read model misses it until a rebuild applies it.
 */
export class AuditProjectionFailedEvent {
  constructor(
    /** The read model and its version, e.g. `audit_denied_access@v1`. */
    readonly projection: string,
    readonly seq: string,
    /** The database's SQLSTATE for the failure. */
    readonly code: string,
    readonly failedAt: Date,
  ) {}
}
