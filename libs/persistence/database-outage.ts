import { DomainError } from '@app/ddd';
import { ConnectionException } from '@mikro-orm/core';

/** The database could not be reached (or refused new work): the caller should retry, nothing was wrong with the call. */
export class DatabaseUnavailableError extends DomainError {
  readonly code = 'DATABASE.UNAVAILABLE';
  readonly kind = 'unavailable' as const;

  constructor() {
    super('The database is unavailable; try again shortly', { retryAfterSeconds: 5 });
  }
}

/** Socket-level failures on the way to the server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * SQLSTATEs that say "not now" rather than "not this": connection exceptions (class 08), too many connections,
 * and a server shutting down or starting up.
 */
const UNAVAILABLE_SQLSTATES = /^(08...|53300|57P01|57P02|57P03)$/;

/** What node-postgres says when a connection dies or cannot be obtained, without a code. */
const DRIVER_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
];

/**
 * True when an error (or one it wraps, via `cause`) means the database is out of reach, as opposed to a bug or a
 * refused statement. Those errors become 503 DATABASE.UNAVAILABLE instead of an anonymous 500.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    if (current instanceof ConnectionException) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.test(code))) return true;
    if (DRIVER_MESSAGES.some((pattern) => pattern.test(current instanceof Error ? current.message : ''))) return true;
    if (current instanceof AggregateError && current.errors.some((inner) => isDatabaseUnreachable(inner))) return true;
    current = current.cause;
  }
  return false;
}

/** For the HTTP problem filter: a database outage as its domain error, anything else untouched. */
export function translateDatabaseOutage(error: unknown): DomainError | undefined {
  return isDatabaseUnreachable(error) ? new DatabaseUnavailableError() : undefined;
}
