import { describe, expect, it } from 'vitest';
import { RUN_ISSUE_CSV_HEADER, runIssueCsvRow } from './sync-run.dtos.js';

describe('the sync run issues CSV', () => {
  const row = (message: string, sourcedId: string | null = 'stu-1') =>
    runIssueCsvRow({ entity: 'users', sourcedId, field: 'email', severity: 'warning', message });

  it('has a header and CRLF rows', () => {
    expect(RUN_ISSUE_CSV_HEADER).toBe('entity,sourcedId,field,severity,message\r\n');
    expect(row('plain', null)).toBe('users,,email,warning,plain\r\n');
  });

  it.each([
    ['=', '=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+', '+1', "'+1"],
    ['-', '-2+3', "'-2+3"],
    ['@', '@SUM(A1)', "'@SUM(A1)"],
    ['tab', '\t=1+2', "'\t=1+2"],
    ['carriage return', '\r=1+2', `"'\r=1+2"`],
  ])('neutralises a message starting with %s (the audit CSV does too)', (_label, message, cell) => {
    expect(row(message)).toBe(`users,stu-1,email,warning,${cell}\r\n`);
  });

  it('neutralises a SIS-supplied sourcedId too', () => {
    expect(row('x', '=cmd')).toBe(`users,'=cmd,email,warning,x\r\n`);
  });
});
