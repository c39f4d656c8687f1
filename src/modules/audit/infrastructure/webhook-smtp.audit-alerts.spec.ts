import { describe, expect, it } from 'vitest';
import { verificationFailedAlert } from '../application/verification-failed-alert.js';
import { auditAlertMessage } from './webhook-smtp.audit-alerts.js';

const record = {
  verifiedAt: new Date('2026-12-07T03:30:00Z'),
  ok: false,
  fromSeq: 101,
  toSeq: 250,
  checkedEntries: 42,
  firstBadSeq: 142,
  problem: 'AUDIT_CHAIN.HASH_MISMATCH',
};

describe('audit verification alerts', () => {
  it('carry the seqs, the problem code and one delivery id on every channel', () => {
    const alert = verificationFailedAlert('d1', record);
    const message = auditAlertMessage(alert);
    expect(message).toMatchObject({ kind: 'audit.verification-failed', deliveryId: 'd1', payload: alert });
    expect(alert.summary).toBe('The audit chain failed verification at entry 142 (AUDIT_CHAIN.HASH_MISMATCH)');
    expect(message.subject).toBe('[Homeroom] Audit chain verification FAILED at entry 142');
    expect(message.text).toContain('Entries checked: 101..250 (42)');
    expect(message.text).toContain('Problem: AUDIT_CHAIN.HASH_MISMATCH');
  });

  it('read sensibly when the problem is not tied to one entry', () => {
    const alert = verificationFailedAlert('d2', {
      ...record,
      firstBadSeq: null,
      problem: 'AUDIT_CHAIN.CHECKPOINT_INVALID',
    });
    expect(alert.summary).toBe('The audit chain failed verification (AUDIT_CHAIN.CHECKPOINT_INVALID)');
    expect(auditAlertMessage(alert).subject).toBe('[Homeroom] Audit chain verification FAILED');
    expect(auditAlertMessage(alert).text).toContain('First entry that failed: -');
  });
});
