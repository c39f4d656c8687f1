import { describe, expect, it } from 'vitest';
import { accessWindow, enrollmentGrantsAccess, type EnrollmentDates } from './enrollment-window.js';

const NOW = new Date('2026-12-07T15:30:00.000Z');
const window = accessWindow(NOW, 30);
const dates = (overrides: Partial<EnrollmentDates>): EnrollmentDates => ({
  beginDate: null,
  endDate: null,
  termEndDate: null,
  ...overrides,
});

describe('enrollment access window', () => {
  it('computes today and the earliest end date still in the grace period, across a month boundary', () => {
    expect(window).toEqual({ today: '2026-12-07', endedNoEarlierThan: '2026-11-07' });
    expect(accessWindow(new Date('2027-03-01T00:00:00.000Z'), 1)).toEqual({
      today: '2027-03-01',
      endedNoEarlierThan: '2027-02-28',
    });
    expect(accessWindow(NOW, 0).endedNoEarlierThan).toBe('2026-12-07');
    expect(() => accessWindow(NOW, -1)).toThrow(RangeError);
  });

  it.each<[string, Partial<EnrollmentDates>, boolean]>([
    ['no dates at all', {}, true],
    ['begun and not ended', { beginDate: '2026-08-20', endDate: '2027-06-10' }, true],
    ['begins today', { beginDate: '2026-12-07' }, true],
    ['begins tomorrow', { beginDate: '2026-12-08' }, false],
    ['ended today', { endDate: '2026-12-07' }, true],
    ['ended 30 days ago (last day of grace)', { endDate: '2026-11-07' }, true],
    ['ended 31 days ago', { endDate: '2026-11-06' }, false],
    ['ended two years ago', { beginDate: '2024-08-20', endDate: '2024-12-07' }, false],
    ['no end date, class term ended two years ago', { termEndDate: '2024-12-20' }, false],
    ['no end date, class term runs on', { termEndDate: '2027-01-20' }, true],
    ['its own end date wins over the term', { endDate: '2027-01-01', termEndDate: '2024-12-20' }, true],
    ['future start within a current term', { beginDate: '2027-01-05', termEndDate: '2027-06-01' }, false],
  ])('%s → %s', (_label, overrides, expected) => {
    expect(enrollmentGrantsAccess(dates(overrides), window)).toBe(expected);
  });
});
