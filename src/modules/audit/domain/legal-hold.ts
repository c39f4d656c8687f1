import { DomainError } from '@app/ddd';

/**
 * 99.10(e): a record may not be destroyed while a request to inspect it is outstanding. While a hold on a
 * student is active, the retention purge keeps every audit entry that names the student.
 */
export interface LegalHold {
  id: string;
  studentId: string;
  /** Why, e.g. the inspection request it answers. Free text: kept with the hold, never in the audit trail. */
  reason: string;
  placedBy: string;
  placedAt: Date;
  releasedBy: string | null;
  releasedAt: Date | null;
}

export const MAX_HOLD_REASON = 1_000;

export function placeLegalHold(
  input: { studentId: string; reason: string },
  context: { id: string; placedBy: string; placedAt: Date },
): LegalHold {
  const reason = input.reason.trim();
  if (reason === '' || reason.length > MAX_HOLD_REASON) throw new LegalHoldReasonInvalidError();
  return {
    id: context.id,
    studentId: input.studentId.toLowerCase(),
    reason,
    placedBy: context.placedBy,
    placedAt: context.placedAt,
    releasedBy: null,
    releasedAt: null,
  };
}

export function isActive(hold: LegalHold): boolean {
  return hold.releasedAt === null;
}

export class LegalHoldReasonInvalidError extends DomainError {
  readonly code = 'AUDIT.LEGAL_HOLD_REASON_INVALID';
  readonly kind = 'unprocessable' as const;
  constructor() {
    super(`Give the reason for the hold (1 to ${MAX_HOLD_REASON} characters)`, { fields: ['reason'] });
  }
}

export class LegalHoldNotFoundError extends DomainError {
  readonly code = 'AUDIT.LEGAL_HOLD_NOT_FOUND';
  readonly kind = 'not_found' as const;
  constructor(id: string) {
    super(`No legal hold ${id}`);
  }
}

export class LegalHoldAlreadyReleasedError extends DomainError {
  readonly code = 'AUDIT.LEGAL_HOLD_ALREADY_RELEASED';
  readonly kind = 'conflict' as const;
  constructor(id: string) {
    super(`Legal hold ${id} was already released`);
  }
}
