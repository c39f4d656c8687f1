/** One verification of the stored chain, as recorded. */
export interface AuditVerificationRecord {
  verifiedAt: Date;
  ok: boolean;
  fromSeq: number;
  /** The last seq the verification covered (the tip when it started). */
  toSeq: number;
  checkedEntries: number;
  firstBadSeq: number | null;
  /** The verifier's stable problem code when it failed. */
  problem: string | null;
}

/** The record of verifications (append-only). */
export abstract class AuditVerificationRepository {
  abstract record(verification: AuditVerificationRecord): Promise<void>;
  abstract latest(): Promise<AuditVerificationRecord | null>;
  abstract latestSuccessful(): Promise<AuditVerificationRecord | null>;
}
