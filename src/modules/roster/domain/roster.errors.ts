import { DomainError } from '@app/ddd';

/** The record exists but lies outside what the caller may see. */
export class RosterAccessDeniedError extends DomainError {
  readonly code = 'ROSTER.ACCESS_DENIED';
  readonly kind = 'forbidden' as const;
  constructor(resource: 'class' | 'student', id: string) {
    super(`You may not see this ${resource}`, { resource, id });
  }
}

export class RosterClassNotFoundError extends DomainError {
  readonly code = 'ROSTER.CLASS_NOT_FOUND';
  readonly kind = 'not_found' as const;
  constructor(classId: string) {
    super('No active class has that id', { classId });
  }
}

export class RosterStudentNotFoundError extends DomainError {
  readonly code = 'ROSTER.STUDENT_NOT_FOUND';
  readonly kind = 'not_found' as const;
  constructor(studentId: string) {
    super('No active student has that id', { studentId });
  }
}

export class InvalidRosterCursorError extends DomainError {
  readonly code = 'ROSTER.INVALID_CURSOR';
  readonly kind = 'validation' as const;
  constructor() {
    super('The cursor is malformed or belongs to another listing; start again without it');
  }
}

export class InvalidRosterPageSizeError extends DomainError {
  readonly code = 'ROSTER.INVALID_PAGE_SIZE';
  readonly kind = 'validation' as const;
  constructor(limit: number, maximum: number) {
    super(`The page size must be a whole number from 1 to ${maximum}`, { limit, maximum });
  }
}
