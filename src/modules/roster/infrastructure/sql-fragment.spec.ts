import { describe, expect, it } from 'vitest';
import { joinSql, sql, SqlFragment } from './sql-fragment.js';

describe('sql', () => {
  it('keeps parameters in placeholder order across nested fragments', () => {
    const scope = sql`o.id = ANY(ARRAY[${['a', 'b']}]::text[])`;
    const after = sql`(c.title, c.id) > (${'Algebra'}, ${'id-1'}::uuid)`;
    const query = sql`SELECT 1 WHERE ${joinSql([scope, SqlFragment.empty, after], ' AND ')} LIMIT ${51}`;
    expect(query.text).toBe('SELECT 1 WHERE o.id = ANY(ARRAY[?]::text[]) AND (c.title, c.id) > (?, ?::uuid) LIMIT ?');
    expect(query.params).toEqual([['a', 'b'], 'Algebra', 'id-1', 51]);
  });

  it('refuses an undefined parameter rather than sending the text "undefined"', () => {
    expect(() => sql`WHERE id = ${undefined}`).toThrow(/undefined/);
  });
});
