import { ROSTER_ID_PATTERN } from '../domain/roster-id.js';
import { InvalidRosterCursorError, InvalidRosterPageSizeError } from '../domain/roster.errors.js';
import type { Page } from './roster-views.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
export const MAX_CURSOR_LENGTH = 2048;

export const CURSOR_FIELD_PATTERNS = { id: ROSTER_ID_PATTERN, score: /^\d{1,6}(\.\d{1,12})?$/ } as const;

/**
 * Opaque keyset cursors: base64url JSON of the listing's name and the last row's sort key. The name stops a
 * cursor of one listing from being replayed against another; every field is checked before it reaches SQL.
 */
export class PageCursorCodec<P extends { [K in keyof P]: string }> {
  constructor(
    private readonly listing: string,
    private readonly fields: readonly (keyof P & string)[],
    private readonly patterns: Partial<Record<keyof P & string, RegExp>> = {},
  ) {}

  encode(position: P): string {
    return Buffer.from(JSON.stringify([this.listing, ...this.fields.map((field) => position[field])])).toString(
      'base64url',
    );
  }

  /** Null without a cursor; `InvalidRosterCursorError` for anything this codec did not produce. */
  decode(cursor: string | undefined): P | null {
    if (cursor === undefined || cursor === '') return null;
    if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidRosterCursorError();
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      throw new InvalidRosterCursorError();
    }
    if (!Array.isArray(decoded) || decoded.length !== this.fields.length + 1 || decoded[0] !== this.listing) {
      throw new InvalidRosterCursorError();
    }
    const values: unknown[] = decoded.slice(1);
    const position: Record<string, string> = {};
    this.fields.forEach((field, index) => {
      const value = values[index];
      const pattern = this.patterns[field];
      if (typeof value !== 'string' || (pattern && !pattern.test(value))) throw new InvalidRosterCursorError();
      position[field] = value;
    });
    return position as P;
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
