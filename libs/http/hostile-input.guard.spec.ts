import { describe, expect, it } from 'vitest';
import { jsonValueProblem, MAX_JSON_DEPTH, urlProblem } from './hostile-input.guard.js';

const nested = (depth: number): unknown => {
  let value: unknown = 'leaf';
  for (let level = 0; level < depth; level++) value = [value];
  return value;
};

describe('jsonValueProblem', () => {
  it('accepts ordinary bodies, surrogate pairs included', () => {
    expect(jsonValueProblem({ name: 'Zoë 😀', tags: ['a'], n: 1, ok: true, none: null })).toBeUndefined();
    expect(jsonValueProblem(nested(MAX_JSON_DEPTH - 1))).toBeUndefined();
  });

  it.each([
    ['NUL in a value', { pronouns: 'a\u0000b' }],
    ['NUL in a key', { ['pro\u0000nouns']: 'x' }],
    ['a lone high surrogate', { name: 'a\ud800b' }],
    ['a lone low surrogate', ['\udc00']],
    ['NUL deep inside', { a: [{ b: ['ok', 'x\u0000'] }] }],
  ])('refuses %s', (_label, body) => {
    expect(jsonValueProblem(body)?.code).toBe('HTTP.INVALID_CHARACTERS');
  });

  it('refuses nesting past the limit without recursing (200,000 levels)', () => {
    expect(jsonValueProblem(nested(MAX_JSON_DEPTH + 1))?.code).toBe('HTTP.BODY_TOO_DEEP');
    expect(jsonValueProblem(nested(200_000))?.code).toBe('HTTP.BODY_TOO_DEEP');
  });
});

describe('urlProblem', () => {
  it('accepts ordinary URLs', () => {
    expect(urlProblem('/api/v1/students?q=Zo%C3%AB&limit=5')).toBeUndefined();
    expect(urlProblem('/api/v1/students/%E2%82%AC')).toBeUndefined();
  });

  it.each([
    ['NUL in a query value', '/api/v1/users?cursor=%00'],
    ['NUL in a query name', '/api/v1/users?a%00=1'],
    ['NUL in a path segment', '/api/v1/students/%00'],
  ])('refuses %s', (_label, url) => {
    expect(urlProblem(url)?.code).toBe('HTTP.INVALID_CHARACTERS');
  });

  it('refuses more than 100 query parameters', () => {
    const query = Array.from({ length: 101 }, (_, index) => `p${index}=1`).join('&');
    expect(urlProblem(`/api/v1/users?${query}`)?.code).toBe('HTTP.INVALID_QUERY');
  });
});
