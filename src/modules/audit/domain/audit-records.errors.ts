import { DomainError } from '@app/ddd';

/** A disclosure or hold names students the roster does not know. */
export class UnknownStudentsError extends DomainError {
  readonly code = 'AUDIT.UNKNOWN_STUDENTS';
  readonly kind = 'unprocessable' as const;
  constructor(
    readonly studentIds: readonly string[],
    field = 'studentIds',
  ) {
    super(`No such student: ${studentIds.slice(0, 20).join(', ')}${studentIds.length > 20 ? ', …' : ''}`, {
      fields: [field],
      unknownStudentIds: studentIds,
    });
  }
}

/** A query's time window ends before it starts. */
export class AuditQueryRangeError extends DomainError {
  readonly code = 'AUDIT.INVALID_RANGE';
  readonly kind = 'validation' as const;
  constructor() {
    super('`from` must be earlier than `to`', { fields: ['from', 'to'] });
  }
}
