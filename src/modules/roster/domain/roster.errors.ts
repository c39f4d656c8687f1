import { DomainError } from '@app/ddd';

/** The record exists but lies outside what the caller may see. */
export class RosterAccessDeniedError extends DomainError {
  readonly code = 'ROSTER.ACCESS_DENIED';
  readonly kind = 'forbidden' as const;
  constructor(resource: 'class' | 'student' | 'staff', id: string) {
    super(`You may not see this ${resource === 'staff' ? 'staff member' : resource}`, { resource, id });
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

export class RosterPersonNotFoundError extends DomainError {
  readonly code = 'ROSTER.PERSON_NOT_FOUND';
  readonly kind = 'not_found' as const;
  constructor(kind: 'student' | 'staff', id: string) {
    super(`No active ${kind === 'student' ? 'student' : 'staff member'} has that id`, { id });
  }
}

export class RosterEditDeniedError extends DomainError {
  readonly code = 'ROSTER.EDIT_DENIED';
  readonly kind = 'forbidden' as const;
  constructor(id: string) {
    super('You may not edit this person: district administrators may, and school administrators for their schools', {
      id,
    });
  }
}

export class NoLocalEditError extends DomainError {
  readonly code = 'ROSTER.NO_LOCAL_EDIT';
  readonly kind = 'not_found' as const;
  constructor(field: string) {
    super('This field has no local edit to clear', { field });
  }
}
