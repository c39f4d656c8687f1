import { DomainError, isUuid } from '@app/ddd';

export const DEFAULT_AUDIT_PAGE = 50;
export const MAX_AUDIT_PAGE = 200;

export class InvalidAuditCursorError extends DomainError {
  readonly code = 'AUDIT.INVALID_CURSOR';
  readonly kind = 'validation' as const;
  constructor() {
    super('The cursor is not one this list handed out', { fields: ['cursor'] });
  }
}

export class InvalidAuditPageSizeError extends DomainError {
  readonly code = 'AUDIT.INVALID_PAGE_SIZE';
  readonly kind = 'validation' as const;
  constructor() {
    super(`limit must be between 1 and ${MAX_AUDIT_PAGE}`, { fields: ['limit'] });
  }
}

const SEQ = /^[1-9]\d{0,18}$/;

export function pageSize(limit: number | undefined, max = MAX_AUDIT_PAGE): number {
  const size = limit ?? DEFAULT_AUDIT_PAGE;
  if (!Number.isInteger(size) || size < 1 || size > max) throw new InvalidAuditPageSizeError();
  return size;
}

/** Trail pages are keyed on the chain position: the cursor is the last seq handed out. */
export function decodeSeqCursor(cursor: string | undefined): bigint | undefined {
  if (cursor === undefined) return undefined;
  if (!SEQ.test(cursor) || BigInt(cursor) > 9_223_372_036_854_775_807n) throw new InvalidAuditCursorError();
  return BigInt(cursor);
}

/** Student-keyed pages (an actor's accesses grouped by student) continue after the last student id. */
export function decodeIdCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  if (!isUuid(cursor)) throw new InvalidAuditCursorError();
  return cursor.toLowerCase();
}

/** Newest-first lists of holds continue after (placedAt, id). */
export function encodeTimeIdCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`, 'utf8').toString('base64url');
}

export function decodeTimeIdCursor(cursor: string | undefined): { at: Date; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const time = at ? Date.parse(at) : Number.NaN;
  if (rest.length > 0 || !id || !isUuid(id) || Number.isNaN(time)) throw new InvalidAuditCursorError();
  return { at: new Date(time), id };
}
