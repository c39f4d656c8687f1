/**
 * The kinds of failure a use case can report. The HTTP layer maps each kind to a status;
 * the domain never knows about HTTP.
 */
export type DomainErrorKind =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'rate_limited'
  | 'unavailable';

export abstract class DomainError extends Error {
  /** Stable, documented code such as `IDENTITY.INVALID_CREDENTIALS`. Never reworded once published. */
  abstract readonly code: string;
  abstract readonly kind: DomainErrorKind;
  /** Extra machine-readable fields for the problem response (never secrets or student data). */
  readonly details?: Record<string, unknown>;

  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
