import { DomainError } from '@app/ddd';

/** No AUDIT_SIGNING_KEY: checkpoints cannot be signed (verification still works with the published keys). */
export class AuditSigningKeyMissingError extends DomainError {
  readonly code = 'AUDIT.SIGNING_KEY_MISSING';
  readonly kind = 'unavailable' as const;
  constructor() {
    super('No audit signing key is configured (AUDIT_SIGNING_KEY), so no checkpoint can be signed');
  }
}

/**
 * A new checkpoint would contradict the last one: the chain is shorter than the last checkpoint covered, or no
 * longer passes through the head it signed. Signing anyway would vouch for a rewritten or truncated trail.
 */
export class AuditCheckpointRefusedError extends DomainError {
  readonly code = 'AUDIT.CHECKPOINT_REFUSED';
  readonly kind = 'conflict' as const;
  constructor(
    readonly problem: 'AUDIT_CHAIN.TRUNCATED' | 'AUDIT_CHAIN.CHECKPOINT_HEAD_MISMATCH',
    readonly firstBadSeq: number,
    previousCheckpointId: number,
  ) {
    super(
      problem === 'AUDIT_CHAIN.TRUNCATED'
        ? `The chain is shorter than checkpoint ${previousCheckpointId} covered: entry ${firstBadSeq} is gone`
        : `The chain no longer passes through the head checkpoint ${previousCheckpointId} signed at entry ${firstBadSeq}`,
      { problem, firstBadSeq: String(firstBadSeq), previousCheckpointId },
    );
  }
}

/** A verification range that ends before it starts. */
export class AuditSeqRangeError extends DomainError {
  readonly code = 'AUDIT.INVALID_SEQ_RANGE';
  readonly kind = 'validation' as const;
  constructor() {
    super('fromSeq must not be greater than toSeq', { fields: ['fromSeq', 'toSeq'] });
  }
}
