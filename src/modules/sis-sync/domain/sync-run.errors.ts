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

/**
 * A `oneroster-csv` connection has no SIS to pull from: each of its runs is an uploaded package. Refused before
 * a run is recorded, so nothing fails later or counts toward the connection's failure streak.
 */
export class CsvConnectionNeedsUploadError extends DomainError {
  readonly code = 'SIS_SYNC.CSV_CONNECTION_NEEDS_UPLOAD';
  readonly kind = 'unprocessable' as const;
  constructor(connectionId: string) {
    super(
      'This connection is fed by OneRoster CSV files, not pulled from a SIS: upload a package with ' +
        `POST /api/v1/sis/imports (form fields file and connectionId=${connectionId}) or ` +
        `homeroom sync import <zip> --connection ${connectionId}`,
      { connectionId, field: 'connectionId' },
    );
  }
}

/** CSV packages go into `oneroster-csv` connections only: a REST connection's records come from its SIS. */
export class NotACsvConnectionError extends DomainError {
  readonly code = 'SIS_SYNC.NOT_A_CSV_CONNECTION';
  readonly kind = 'unprocessable' as const;
  constructor(connectionId: string, provider: string) {
    super(
      `CSV packages are imported into oneroster-csv connections only; this connection (provider ${provider}) ` +
        'pulls from its SIS. Create a oneroster-csv connection for this feed, or leave connectionId out',
      { connectionId, provider, field: 'connectionId' },
    );
  }
}
