import { KeysetCursorCodec } from '@app/ddd';
import { ROSTER_ID_PATTERN } from '../domain/roster-id.js';
import { InvalidRosterCursorError, InvalidRosterPageSizeError } from '../domain/roster.errors.js';
import type { Page } from './roster-views.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
export { MAX_CURSOR_LENGTH } from '@app/ddd';

export const CURSOR_FIELD_PATTERNS = { id: ROSTER_ID_PATTERN, score: /^\d{1,6}(\.\d{1,12})?$/ } as const;

/**
 * Opaque keyset cursors of the roster listings: the shared codec with the roster's own error
 * (`ROSTER.INVALID_CURSOR`). The listing's name stops a cursor of one listing from being replayed against another.
 */
export class PageCursorCodec<P extends { [K in keyof P]: string }> extends KeysetCursorCodec<P> {
  constructor(
    listing: string,
    fields: readonly (keyof P & string)[],
    patterns: Partial<Record<keyof P & string, RegExp>> = {},
  ) {
    super({ listing, fields, patterns, invalid: () => new InvalidRosterCursorError() });
  }
}

export function assertPageSize(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new InvalidRosterPageSizeError(limit, MAX_PAGE_SIZE);
  }
}

/** `rows` were fetched with `limit + 1`: the extra row only says that another page exists. */
export function toPage<T>(rows: T[], limit: number, cursorOf: (last: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}
