import type { ChainProblemCode } from '@app/audit-chain';
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
 * A new checkpoint would vouch for a chain that does not verify: it is shorter than the last checkpoint covered,
 * no longer passes through the head it signed, or an entry, a link, a hash, a column beside a text or a stored
 * checkpoint fails verification. Signing anyway would vouch for a rewritten, truncated or altered trail.
 */
export class AuditCheckpointRefusedError extends DomainError {
  readonly code = 'AUDIT.CHECKPOINT_REFUSED';
  readonly kind = 'conflict' as const;
  constructor(
    readonly problem: ChainProblemCode,
    /** The first seq that failed; null for a problem with a stored checkpoint rather than an entry. */
    readonly firstBadSeq: number | null,
    previousCheckpointId: number | null,
    detail?: string,
  ) {
    super(
      problem === 'AUDIT_CHAIN.TRUNCATED' && detail === undefined
        ? `The chain is shorter than checkpoint ${previousCheckpointId} covered: entry ${firstBadSeq} is gone`
        : problem === 'AUDIT_CHAIN.CHECKPOINT_HEAD_MISMATCH' && detail === undefined
          ? `The chain no longer passes through the head checkpoint ${previousCheckpointId} signed at entry ${firstBadSeq}`
          : `No checkpoint is signed over a chain that does not verify (${problem}): ${detail ?? 'see the verification'}`,
      {
        problem,
        firstBadSeq: firstBadSeq === null ? null : String(firstBadSeq),
        previousCheckpointId,
      },
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
