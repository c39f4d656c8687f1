import { describe, expect, it } from 'vitest';
import { IgnoredValueTally, shapeOf } from './oneroster-ignored-values.js';

describe('IgnoredValueTally', () => {
  it('describes a value by its shape only', () => {
    expect(shapeOf('1/05/2023')).toBe('9/99/9999');
    expect(shapeOf('Jan 5, 2023 10:00 PM')).toBe('aaa 9, 9999 99:99 aa');
    expect(shapeOf('x'.repeat(100))).toBe(`${'a'.repeat(32)}…`);
    expect(shapeOf(1672531200)).toBe('9999999999');
    expect(shapeOf({ at: 'now' })).toBe('a JSON object');
    expect(shapeOf(['2023'])).toBe('a JSON array');
    expect(shapeOf(true)).toBe('aaaa');
  });

  it('sums ignored values per field into one message with a count and the distinct shapes', () => {
    const tally = new IgnoredValueTally();
    expect(tally.summaries(['users.csv row', 'users.csv rows'])).toEqual([]);
    for (const shape of ['9/99/9999', '9/99/9999', '99/99/9999', 'aaa 9, 9999', '9.99.9999'])
      tally.add([{ field: 'dateLastModified', problem: 'is not an ISO 8601 date-time', shape }]);
    tally.add(undefined);
    expect(tally.summaries(['users.csv row', 'users.csv rows'])).toEqual([
      {
        field: 'dateLastModified',
        count: 5,
        message:
          '5 users.csv rows have a dateLastModified that is not an ISO 8601 date-time (shaped like 9/99/9999, ' +
          '99/99/9999, aaa 9, 9999 and 1 other shape): the dateLastModified was ignored and the records kept',
      },
    ]);
    const one = new IgnoredValueTally();
    one.add([{ field: 'dateLastModified', problem: 'is not an ISO 8601 date-time', shape: '9/99/9999' }]);
    expect(one.summaries(['orgs record', 'orgs records'])[0].message).toBe(
      '1 orgs record has a dateLastModified that is not an ISO 8601 date-time (shaped like 9/99/9999): ' +
        'the dateLastModified was ignored and the record kept',
    );
  });
});
