import { describe, expect, it } from 'vitest';
import { InvalidRosterCursorError, InvalidRosterPageSizeError } from '../domain/roster.errors.js';
import { assertPageSize, CURSOR_FIELD_PATTERNS, PageCursorCodec, toPage } from './roster-page-cursor.js';

type Position = { title: string; id: string };
const codec = new PageCursorCodec<Position>('classes', ['title', 'id'], { id: CURSOR_FIELD_PATTERNS.id });
const position = { title: 'Algebra I — période 2', id: '6f1c2a9e-1d1b-4c5e-9a51-0c1de3f4a5b6' };

describe('PageCursorCodec', () => {
  it('round-trips a position through an opaque url-safe string', () => {
    const cursor = codec.encode(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(codec.decode(cursor)).toEqual(position);
  });

  it('keeps characters outside the BMP (surrogate pairs) in a field', () => {
    const emoji = { ...position, title: 'Art 😀' };
    expect(codec.decode(codec.encode(emoji))).toEqual(emoji);
  });

  it('reads no cursor as the first page', () => {
    expect(codec.decode(undefined)).toBeNull();
    expect(codec.decode('')).toBeNull();
  });

  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  it.each([
    ['not base64url', 'abc$%'],
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['another listing', new PageCursorCodec<Position>('schools', ['title', 'id']).encode(position)],
    ['too few fields', encode(['classes', 'Algebra'])],
    ['a non-string field', encode(['classes', 5, position.id])],
    ['an id that is not a UUID', encode(['classes', 'Algebra', "x' OR 1=1 --"])],
    ['an object', encode({ title: 'Algebra', id: position.id })],
    ['a huge string', 'A'.repeat(5000)],
    ['a NUL in a field', encode(['classes', 'Alg\u0000ebra', position.id])],
    ['a control character in a field', encode(['classes', 'Alg\u001bebra', position.id])],
    ['a lone surrogate in a field', encode(['classes', 'Alg\ud800ebra', position.id])],
  ])('refuses %s', (_label, cursor) => {
    expect(() => codec.decode(cursor)).toThrow(InvalidRosterCursorError);
  });
});

describe('assertPageSize', () => {
  it.each([1, 50, 200])('accepts %s', (limit) => expect(() => assertPageSize(limit)).not.toThrow());
  it.each([0, -1, 201, 1.5, Number.NaN])('refuses %s', (limit) => {
    expect(() => assertPageSize(limit)).toThrow(InvalidRosterPageSizeError);
  });
});

describe('toPage', () => {
  it('gives a cursor only when the extra row shows there is more', () => {
    expect(toPage([1, 2, 3], 2, String)).toEqual({ items: [1, 2], nextCursor: '2' });
    expect(toPage([1, 2], 2, String)).toEqual({ items: [1, 2], nextCursor: null });
    expect(toPage([], 2, String)).toEqual({ items: [], nextCursor: null });
  });
});
