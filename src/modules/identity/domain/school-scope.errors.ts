import { DomainError } from '@app/ddd';

/** A scope entry that names no school of the roster mirror. */
export class SchoolScopeUnknownError extends DomainError {
  readonly code = 'IDENTITY.SCHOOL_SCOPE_UNKNOWN';
  readonly kind = 'unprocessable' as const;
  constructor(entries: readonly string[]) {
    super('No school of the roster has this id, sourcedId or connectionId:sourcedId; sync the school first', {
      entries: [...entries],
    });
  }
}

/** A plain sourcedId that schools of several SIS connections share. */
export class SchoolScopeAmbiguousError extends DomainError {
  readonly code = 'IDENTITY.SCHOOL_SCOPE_AMBIGUOUS';
  readonly kind = 'unprocessable' as const;
  constructor(
    ambiguous: readonly { entry: string; candidates: readonly { schoolId: string; connectionId: string }[] }[],
  ) {
    super('Schools of several SIS connections have this sourcedId: give the school id, or connectionId:sourcedId', {
      ambiguous: ambiguous.map(({ entry, candidates }) => ({ entry, candidates: [...candidates] })),
    });
  }
}
