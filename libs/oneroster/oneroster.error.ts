export type OneRosterErrorCode =
  | 'SIS_SYNC.SOURCE_UNREACHABLE'
  | 'SIS_SYNC.SOURCE_AUTH_FAILED'
  | 'SIS_SYNC.SOURCE_FORBIDDEN'
  | 'SIS_SYNC.SOURCE_PROTOCOL_ERROR'
  | 'SIS_SYNC.SOURCE_MALFORMED_PAGE'
  | 'SIS_SYNC.SOURCE_INCOMPLETE_LISTING'
  | 'SIS_SYNC.SOURCE_RETRIES_EXHAUSTED'
  | 'SIS_SYNC.SOURCE_RESPONSE_TOO_LARGE'
  | 'SIS_SYNC.CSV_INVALID';

export interface OneRosterErrorDetails {
  /** HTTP status of the failing response, when there was one. */
  status?: number;
  /** REST collection (`users`) being listed. */
  collection?: string;
  /** CSV file (`users.csv`) being read. */
  file?: string;
  /** 1-based physical line in the CSV file. */
  line?: number;
  field?: string;
}

/** One problem of a package (a manifest value, a missing file, a header), where it was found. */
export interface OneRosterProblem {
  message: string;
  file?: string;
  line?: number;
  field?: string;
}

/**
 * A OneRoster listing or package that cannot be completed or trusted. The codes match the sync module's
 * `SisSourceError` codes so adapters translate one to one. Messages never carry record values or secrets.
 */
export class OneRosterError extends Error {
  readonly status?: number;
  readonly collection?: string;
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
  /**
   * Every problem found before giving up: a CSV package's structure is checked whole (manifest, every file's
   * header) so that one upload reports all of it. Just this error's own when it is the only one.
   */
  readonly problems: readonly OneRosterProblem[];

  constructor(
    readonly code: OneRosterErrorCode,
    message: string,
    details: OneRosterErrorDetails = {},
    options?: { cause?: unknown; problems?: readonly OneRosterProblem[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OneRosterError';
    this.status = details.status;
    this.collection = details.collection;
    this.file = details.file;
    this.line = details.line;
    this.field = details.field;
    this.problems = options?.problems ?? [{ message, file: details.file, line: details.line, field: details.field }];
  }
}
