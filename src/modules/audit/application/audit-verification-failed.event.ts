/** In-process: a verification of the audit chain found a problem (pushed to the `compliance` room). */
export class AuditVerificationFailedEvent {
  constructor(
    /** The first entry that failed to verify, when the problem is tied to one. */
    readonly firstBadSeq: string | null,
    /** The verifier's stable problem code. */
    readonly problem: string,
    readonly verifiedAt: Date,
  ) {}
}
