import { describe, expect, it } from 'vitest';
import { csvCell, csvRow } from './csv-writer.js';

describe('csvCell', () => {
  it.each([
    ['=', '=1+2', "'=1+2"],
    ['+', '+1', "'+1"],
    ['-', '-1', "'-1"],
    ['@', '@SUM(A1)', "'@SUM(A1)"],
    ['tab', '\tx', "'\tx"],
    ['carriage return', '\rx', `"'\rx"`],
  ])('neutralises a leading %s with an apostrophe', (_label, value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('neutralises a negative number too (a spreadsheet cannot tell)', () => {
    expect(csvCell(-5)).toBe("'-5");
  });

  it('leaves the characters alone anywhere but the start', () => {
    expect(csvCell('a=b+c-d@e\tf')).toBe('a=b+c-d@e\tf');
    expect(csvCell(' =1')).toBe(' =1');
  });

  it.each([
    ['a comma', 'a,b', '"a,b"'],
    ['a quote', 'say "hi"', '"say ""hi"""'],
    ['a line feed', 'a\nb', '"a\nb"'],
    ['a carriage return inside', 'a\rb', '"a\rb"'],
    ['a formula with a quote', '=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
  ])('quotes a value with %s, doubling quotes', (_label, value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('writes null and undefined as empty cells, numbers and booleans as text', () => {
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(42)).toBe('42');
    expect(csvCell(false)).toBe('false');
  });
});

describe('csvRow', () => {
  it('joins cells with commas and ends with CRLF', () => {
    expect(csvRow(['a', null, '=x', 'b,c'])).toBe(`a,,'=x,"b,c"\r\n`);
  });
});
