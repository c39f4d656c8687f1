import type { AuditVerificationFailedAlert } from '@app/contracts';
import type { AuditVerificationRecord } from './ports/audit-verification.repository.js';

/** The alert for a verification that failed: its seqs and problem code only. */
export function verificationFailedAlert(id: string, record: AuditVerificationRecord): AuditVerificationFailedAlert {
  const where = record.firstBadSeq === null ? '' : ` at entry ${record.firstBadSeq}`;
  return {
    id,
    type: 'audit.verification-failed',
    occurredAt: record.verifiedAt.toISOString(),
    summary: `The audit chain failed verification${where} (${record.problem ?? 'unknown problem'})`,
    verification: {
      verifiedAt: record.verifiedAt.toISOString(),
      fromSeq: record.fromSeq,
      toSeq: record.toSeq,
      checkedEntries: record.checkedEntries,
      firstBadSeq: record.firstBadSeq,
      problem: record.problem,
    },
  };
}
