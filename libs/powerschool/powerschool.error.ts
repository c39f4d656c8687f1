export type PowerSchoolErrorCode =
  | 'SIS_SYNC.SOURCE_UNREACHABLE'
  | 'SIS_SYNC.SOURCE_AUTH_FAILED'
  | 'SIS_SYNC.SOURCE_FORBIDDEN'
  | 'SIS_SYNC.SOURCE_PROTOCOL_ERROR'
  | 'SIS_SYNC.SOURCE_MALFORMED_PAGE'
  | 'SIS_SYNC.SOURCE_INCOMPLETE_LISTING'
  | 'SIS_SYNC.SOURCE_RETRIES_EXHAUSTED'
  | 'SIS_SYNC.SOURCE_RESPONSE_TOO_LARGE';

export interface PowerSchoolErrorDetails {
  /** HTTP status of the failing response, when there was one. */
  status?: number;
  /** The PowerSchool resource (`students`, `section_enrollment`, …) being read. */
  resource?: string;
  field?: string;
}

/**
 * A PowerSchool request or listing that cannot be completed or trusted. The codes equal the sync module's
 * `SisSourceError` codes so adapters translate one to one. Messages name paths and resources, never record values
 * or secrets.
 */
export class PowerSchoolError extends Error {
  readonly status?: number;
  readonly resource?: string;
  readonly field?: string;

  constructor(
    readonly code: PowerSchoolErrorCode,
    message: string,
    details: PowerSchoolErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PowerSchoolError';
    this.status = details.status;
    this.resource = details.resource;
    this.field = details.field;
  }
}
