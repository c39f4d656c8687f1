import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

/** A plain reference: keys sorted recursively, then ECMAScript's own JSON.stringify. */
function reference(value: unknown): string {
  const sortKeys = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sortKeys);
    if (item !== null && typeof item === 'object') {
      return Object.fromEntries(
        Object.keys(item)
          .sort()
          .map((key) => [key, sortKeys((item as Record<string, unknown>)[key])]),
      );
    }
    return item;
  };
  return JSON.stringify(sortKeys(value));
}

/** Deterministic pseudo-random JSON values (mulberry32), so a failure can be replayed. */
function randomValue(seed: number): unknown {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const alphabet = ['a', 'B', 'z', '_', '1', 'é', 'Ø', 'ß', '€', '😀', '"', '\\', '\n', '\u0007', ' ', '中'];
  const text = (): string =>
    Array.from({ length: Math.floor(next() * 6) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
  const build = (depth: number): unknown => {
    const pick = Math.floor(next() * (depth > 3 ? 5 : 7));
    switch (pick) {
      case 0:
        return null;
      case 1:
        return next() < 0.5;
      case 2:
        return (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
      case 3:
        return Math.floor(next() * 1_000_000) - 500_000;
      case 4:
        return text();
      case 5:
        return Array.from({ length: Math.floor(next() * 4) }, () => build(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, () => [text(), build(depth + 1)]));
    }
  };
  return build(0);
}

describe('canonicalJson', () => {
  it('sorts object keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('gives the same text whatever order the keys were written in', () => {
    const one = { actor: { id: 'u1', roles: ['teacher'] }, action: 'student.read', v: 1 };
    const two = { v: 1, action: 'student.read', actor: { roles: ['teacher'], id: 'u1' } };
    expect(canonicalJson(one)).toBe(canonicalJson(two));
  });

  it('sorts keys by UTF-16 code units, as RFC 8785 §3.2.3 requires (not by code points)', () => {
    // The RFC's own example: the emoji (surrogates D83D DE00) sorts before U+FB33.
    const value = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const keys = Object.keys(JSON.parse(canonicalJson(value)) as object);
    expect(keys).toEqual(['1', '\r', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
    expect(canonicalJson(value).indexOf('Carriage')).toBeLessThan(canonicalJson(value).indexOf('One'));
  });

  it('writes non-ASCII text as itself and escapes only what JSON must', () => {
    expect(canonicalJson('José Núñez 😀 中文')).toBe('"José Núñez 😀 中文"');
    expect(canonicalJson('line\nbreak "quoted" back\\slash \u0007 \u001f')).toBe(
      '"line\\nbreak \\"quoted\\" back\\\\slash \\u0007 \\u001f"',
    );
    expect(canonicalJson('\u2028\u2029/')).toBe('"\u2028\u2029/"');
    // A lone surrogate (e.g. text cut mid-pair) is escaped, so the UTF-8 bytes that get hashed stay well defined.
    expect(canonicalJson('cut \ud83d')).toBe('"cut \\ud83d"');
  });

  it('writes numbers the way ECMAScript does (RFC 8785 §3.2.2.3)', () => {
    const cases: [number, string][] = [
      [0, '0'],
      [-0, '0'],
      [1, '1'],
      [-1.5, '-1.5'],
      [4.5, '4.5'],
      [0.002, '0.002'],
      [1e30, '1e+30'],
      [1e21, '1e+21'],
      [1e20, '100000000000000000000'],
      [1e-7, '1e-7'],
      [0.000001, '0.000001'],
      [Number('333333333.33333329'), '333333333.3333333'],
      [Number.MAX_SAFE_INTEGER, '9007199254740991'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
    ];
    for (const [value, text] of cases) expect(canonicalJson(value), String(value)).toBe(text);
  });

  it('refuses NaN and the infinities anywhere, since JSON cannot hold them', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      expect(() => canonicalJson(bad)).toThrow(TypeError);
      expect(() => canonicalJson({ nested: [1, bad] })).toThrow(/NaN or Infinity/);
    }
  });

  it('writes a Date as its ISO-8601 UTC text, like JSON.stringify', () => {
    const at = new Date('2026-11-25T03:04:05.678+02:00');
    expect(canonicalJson(at)).toBe('"2026-11-25T01:04:05.678Z"');
    expect(canonicalJson({ at })).toBe(JSON.stringify({ at }));
  });

  it('drops undefined object members and writes undefined array items as null, as JSON does', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson([1, undefined, null])).toBe('[1,null,null]');
    expect(canonicalJson([1, undefined, null])).toBe(JSON.stringify([1, undefined, null]));
    // eslint-disable-next-line no-sparse-arrays
    expect(canonicalJson([1, , 3])).toBe('[1,null,3]');
  });

  it('refuses what JSON has no form for rather than hashing something ambiguous', () => {
    expect(() => canonicalJson(undefined)).toThrow(/undefined/);
    expect(() => canonicalJson(10n)).toThrow(/bigint/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
    expect(() => canonicalJson([Symbol('s')])).toThrow(/symbol/);
  });

  it('keeps array order and empty containers', () => {
    expect(canonicalJson({ list: [3, 1, 2], empty: {}, none: [] })).toBe('{"empty":{},"list":[3,1,2],"none":[]}');
  });

  it('round-trips: parsing the text and canonicalising again gives the same bytes', () => {
    for (let seed = 1; seed <= 300; seed += 1) {
      const value = randomValue(seed);
      const text = canonicalJson(value);
      expect(canonicalJson(JSON.parse(text)), `seed ${seed}`).toBe(text);
    }
  });

  it('agrees with sorted-key JSON.stringify on ASCII-keyed values', () => {
    const value = {
      v: 1,
      id: '3f1e0c2a-7d4b-4e8f-9a6b-1c2d3e4f5a6b',
      occurredAt: '2026-11-25T08:00:00.000Z',
      actor: { type: 'user', id: null, roles: ['school_admin', 'teacher'], schoolIds: [] },
      studentIds: ['a', 'b'],
      details: { count: 3, ratio: 0.25, flags: [true, false, null] },
    };
    expect(canonicalJson(value)).toBe(reference(value));
  });
});
