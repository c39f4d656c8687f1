import { CronTime } from 'cron';
import { describe, expect, it } from 'vitest';
import { nextScheduledRun, startOfLocalDay } from './next-scheduled-run.js';
import type { BlackoutWindow } from './sis-connection.js';

const CHICAGO = 'America/Chicago';

function next(cron: string, timeZone: string, from: string, windows: BlackoutWindow[] = []) {
  const time = new CronTime(cron, timeZone);
  return nextScheduledRun(
    new Date(from),
    (instant) => {
      try {
        return time.getNextDateFrom(instant, timeZone).toJSDate();
      } catch {
        return null; // cron gives up after eight years without a tick
      }
    },
    timeZone,
    windows,
  )?.toISOString();
}

describe('nextScheduledRun', () => {
  it('is the next tick of the cron, read in the schedule time zone', () => {
    // 02:00 in Chicago is 08:00 UTC in November (CST).
    expect(next('0 2 * * *', CHICAGO, '2026-11-25T07:00:00Z')).toBe('2026-11-25T08:00:00.000Z');
    expect(next('0 2 * * *', CHICAGO, '2026-11-25T08:00:00Z')).toBe('2026-11-26T08:00:00.000Z');
  });

  it('skips ticks inside blackout windows, dates read in the schedule time zone', () => {
    expect(
      next('0 2 * * *', CHICAGO, '2026-11-25T09:00:00Z', [{ from: '2026-11-26', to: '2026-11-28', reason: 'break' }]),
    ).toBe('2026-11-29T08:00:00.000Z');
    // 23:30 local on the last day of the window is still inside it (05:30 UTC the next day).
    expect(next('30 23 * * *', CHICAGO, '2026-11-25T06:00:00Z', [{ from: '2026-11-25', to: '2026-11-26' }])).toBe(
      '2026-11-28T05:30:00.000Z',
    );
  });

  it('jumps across long windows instead of walking every tick, and handles overlapping windows', () => {
    expect(
      next('* * * * *', CHICAGO, '2027-06-01T12:00:00Z', [
        { from: '2027-06-01', to: '2027-07-15' },
        { from: '2027-07-10', to: '2027-08-01' },
      ]),
    ).toBe('2027-08-02T05:00:00.000Z');
  });

  it('is null when every tick falls in a blackout window', () => {
    // Only on 29 February, and the next ones are blacked out for years.
    expect(
      next('0 0 29 2 *', 'UTC', '2026-01-01T00:00:00Z', [{ from: '2026-01-01', to: '2099-12-31' }]),
    ).toBeUndefined();
  });
});

describe('startOfLocalDay', () => {
  it('is local midnight, across daylight-saving changes', () => {
    expect(startOfLocalDay('2026-11-25', CHICAGO).toISOString()).toBe('2026-11-25T06:00:00.000Z');
    expect(startOfLocalDay('2026-07-01', CHICAGO).toISOString()).toBe('2026-07-01T05:00:00.000Z');
    // DST starts 8 March 2026 at 02:00 local: midnight is still CST.
    expect(startOfLocalDay('2026-03-08', CHICAGO).toISOString()).toBe('2026-03-08T06:00:00.000Z');
    expect(startOfLocalDay('2026-03-09', CHICAGO).toISOString()).toBe('2026-03-09T05:00:00.000Z');
    expect(startOfLocalDay('2026-11-25', 'Asia/Kolkata').toISOString()).toBe('2026-11-24T18:30:00.000Z');
  });
});
