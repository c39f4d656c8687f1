import { DomainError } from '@app/ddd';

export class SyncRunNotFoundError extends DomainError {
  readonly code = 'SIS_SYNC.RUN_NOT_FOUND';
  readonly kind = 'not_found' as const;
  constructor(runId: string) {
    super('No sync run with this id', { runId });
  }
}

export class SyncRunStateConflictError extends DomainError {
  readonly code = 'SIS_SYNC.RUN_STATE_CONFLICT';
  readonly kind = 'conflict' as const;
  constructor(action: string, state: string, why?: string) {
    super(why ?? `A run in state "${state}" cannot be ${action}`, { action, state });
  }
}

export class ImportFileInvalidError extends DomainError {
  readonly code = 'SIS_SYNC.IMPORT_FILE_INVALID';
  readonly kind = 'validation' as const;
  constructor(message: string) {
    super(message);
  }
}

export class ConnectionDisabledError extends DomainError {
  readonly code = 'SIS_SYNC.CONNECTION_DISABLED';
  readonly kind = 'conflict' as const;
  constructor(connectionId: string) {
    super('This connection is disabled or deleted', { connectionId });
  }
}

export class InvalidRunCursorError extends DomainError {
  readonly code = 'SIS_SYNC.INVALID_CURSOR';
  readonly kind = 'validation' as const;
  constructor() {
    super('The cursor is not one this API returned');
  }
}
