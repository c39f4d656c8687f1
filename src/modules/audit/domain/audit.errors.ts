import { DomainError } from '@app/ddd';

export class AuditUnavailableError extends DomainError {
  readonly code = 'AUDIT.UNAVAILABLE';
  readonly kind = 'unavailable' as const;
  constructor() {
    super('The access could not be recorded in the audit trail, so it was refused; try again shortly');
  }
}
