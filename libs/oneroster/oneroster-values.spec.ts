import { describe, expect, it } from 'vitest';
import { calendarDateOf, instantOf, textOf } from './oneroster-values.js';

describe('instantOf', () => {
  it('returns a canonical UTC instant as given', () => {
    expect(instantOf('2025-05-06T09:35:36.353Z')).toBe('2025-05-06T09:35:36.353Z');
    expect(instantOf(' 2024-02-29T23:59:59.999Z ')).toBe('2024-02-29T23:59:59.999Z');
  });

  it('refuses a canonical-looking instant that is not a real moment', () => {
    for (const value of [
      '2025-02-29T00:00:00.000Z',
      '1900-02-29T00:00:00.000Z',
      '2025-04-31T00:00:00.000Z',
      '2025-13-01T00:00:00.000Z',
      '2025-00-10T00:00:00.000Z',
      '2025-01-00T00:00:00.000Z',
      '2025-01-01T24:00:00.000Z',
      '2025-01-01T12:60:00.000Z',
      '2025-01-01T12:00:60.000Z',
    ]) {
      expect(instantOf(value)).toBeUndefined();
    }
    expect(instantOf('2000-02-29T00:00:00.000Z')).toBe('2000-02-29T00:00:00.000Z');
  });

  it('converts other ISO 8601 forms to canonical UTC', () => {
    expect(instantOf('2025-05-06T09:35:36Z')).toBe('2025-05-06T09:35:36.000Z');
    expect(instantOf('2025-05-06T11:35:36.1+02:00')).toBe('2025-05-06T09:35:36.100Z');
    expect(instantOf('2025-05-06')).toBe('2025-05-06T00:00:00.000Z');
    expect(instantOf('yesterday')).toBeUndefined();
    expect(instantOf('')).toBeNull();
  });
});

describe('calendarDateOf', () => {
  it('accepts real dates and refuses impossible ones', () => {
    expect(calendarDateOf('2024-02-29')).toBe('2024-02-29');
    expect(calendarDateOf('2023-02-29')).toBeUndefined();
    expect(calendarDateOf('2025-06-31')).toBeUndefined();
    expect(calendarDateOf('2025-12-31')).toBe('2025-12-31');
    expect(calendarDateOf('2025-06-05T00:00:00Z')).toBe('2025-06-05');
    expect(calendarDateOf('6/5/25')).toBe('2025-06-05');
  });
});

describe('textOf', () => {
  it('trims text and reads blanks as empty', () => {
    expect(textOf('  a b ')).toBe('a b');
    expect(textOf('   ')).toBeNull();
    expect(textOf(7)).toBe('7');
    expect(textOf({})).toBeUndefined();
  });
});
