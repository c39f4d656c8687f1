import { CronTime } from 'cron';
import { describe, expect, it } from 'vitest';
import type { BlackoutWindow } from './sis-connection.js';
import { blackoutAt, latestDueTick, localDate } from './sync-schedule.js';

const CHICAGO = 'America/Chicago';
const at = (iso: string): Date => new Date(iso);

/** The next tick of a cron schedule read in its own time zone (what the scheduled-runs job must pass). */
function cronTicks(expression: string, timeZone: string): (instant: Date) => Date {
  const cron = new CronTime(expression, timeZone);
  return (instant) => cron.getNextDateFrom(instant, timeZone).toJSDate();
}

function ticksBetween(from: Date, to: Date, nextAfter: (instant: Date) => Date): string[] {
  const ticks: string[] = [];
  for (let next = nextAfter(from); next.getTime() <= to.getTime(); next = nextAfter(next)) {
    ticks.push(next.toISOString());
  }
  return ticks;
}

describe('localDate', () => {
  it('reads the calendar date in the time zone, not in UTC', () => {
    const instant = at('2026-06-15T10:30:00Z');
    expect(localDate(instant, 'UTC')).toBe('2026-06-15');
    expect(localDate(instant, 'Pacific/Kiritimati')).toBe('2026-06-16');
    expect(localDate(instant, 'Pacific/Pago_Pago')).toBe('2026-06-14');
  });

  it('turns the day at local midnight on both sides of the spring-forward change (2026-03-08)', () => {
    // CST is UTC-6 until 02:00 on 8 March, CDT (UTC-5) after.
    expect(localDate(at('2026-03-08T05:59:59Z'), CHICAGO)).toBe('2026-03-07');
    expect(localDate(at('2026-03-08T06:00:00Z'), CHICAGO)).toBe('2026-03-08');
    expect(localDate(at('2026-03-09T04:59:59Z'), CHICAGO)).toBe('2026-03-08');
    expect(localDate(at('2026-03-09T05:00:00Z'), CHICAGO)).toBe('2026-03-09');
  });

  it('turns the day at local midnight on both sides of the fall-back change (2026-11-01)', () => {
    // CDT (UTC-5) until 02:00 on 1 November, CST (UTC-6) after: that day has 25 hours.
    expect(localDate(at('2026-11-01T04:59:59Z'), CHICAGO)).toBe('2026-10-31');
    expect(localDate(at('2026-11-01T05:00:00Z'), CHICAGO)).toBe('2026-11-01');
    expect(localDate(at('2026-11-01T07:30:00Z'), CHICAGO)).toBe('2026-11-01');
    expect(localDate(at('2026-11-02T05:59:59Z'), CHICAGO)).toBe('2026-11-01');
    expect(localDate(at('2026-11-02T06:00:00Z'), CHICAGO)).toBe('2026-11-02');
  });
});

describe('blackoutAt', () => {
  const windows: BlackoutWindow[] = [
    { from: '2026-03-08', to: '2026-03-08', reason: 'spring forward' },
    { from: '2026-06-20', to: '2026-08-15', reason: 'summer rollover' },
  ];

  it('covers whole local days, bounds included', () => {
    expect(blackoutAt(at('2026-03-08T05:30:00Z'), CHICAGO, windows)).toBeUndefined(); // 7 March, 23:30 CST
    expect(blackoutAt(at('2026-03-08T06:00:00Z'), CHICAGO, windows)?.reason).toBe('spring forward');
    expect(blackoutAt(at('2026-03-09T04:30:00Z'), CHICAGO, windows)?.reason).toBe('spring forward'); // 23:30 CDT
    expect(blackoutAt(at('2026-03-09T05:00:00Z'), CHICAGO, windows)).toBeUndefined();
    expect(blackoutAt(at('2026-06-20T05:00:00Z'), CHICAGO, windows)?.reason).toBe('summer rollover');
    expect(blackoutAt(at('2026-08-16T04:59:00Z'), CHICAGO, windows)?.reason).toBe('summer rollover');
    expect(blackoutAt(at('2026-08-16T05:00:00Z'), CHICAGO, windows)).toBeUndefined();
  });

  it('depends on the zone: one instant can be inside the window in one zone and outside in another', () => {
    const instant = at('2026-03-08T03:00:00Z');
    expect(blackoutAt(instant, 'UTC', windows)?.reason).toBe('spring forward');
    expect(blackoutAt(instant, CHICAGO, windows)).toBeUndefined();
  });

  it('finds nothing without windows', () => {
    expect(blackoutAt(at('2026-03-08T12:00:00Z'), CHICAGO, [])).toBeUndefined();
  });
});

describe('latestDueTick', () => {
  const hourly = (instant: Date): Date => new Date((Math.floor(instant.getTime() / 3_600_000) + 1) * 3_600_000);

  it('returns the latest tick after `from` and at or before `now`', () => {
    expect(latestDueTick(at('2026-05-01T10:15:00Z'), at('2026-05-01T13:59:00Z'), hourly)).toEqual(
      at('2026-05-01T13:00:00Z'),
    );
    expect(latestDueTick(at('2026-05-01T10:15:00Z'), at('2026-05-01T13:00:00Z'), hourly)).toEqual(
      at('2026-05-01T13:00:00Z'),
    );
  });

  it('returns undefined when no tick fell since `from` (a tick exactly at `from` is not due again)', () => {
    expect(latestDueTick(at('2026-05-01T10:15:00Z'), at('2026-05-01T10:59:59Z'), hourly)).toBeUndefined();
    expect(latestDueTick(at('2026-05-01T10:00:00Z'), at('2026-05-01T10:30:00Z'), hourly)).toBeUndefined();
  });

  it('stops after maxSteps with the latest tick it reached', () => {
    expect(latestDueTick(at('2026-05-01T00:30:00Z'), at('2026-05-02T00:00:00Z'), hourly, 3)).toEqual(
      at('2026-05-01T03:00:00Z'),
    );
  });

  it('fires a daily local-time schedule once on the spring-forward day, at the first valid local time', () => {
    const nextAfter = cronTicks('30 2 * * *', CHICAGO); // 02:30 does not exist on 8 March
    expect(ticksBetween(at('2026-03-07T00:00:00Z'), at('2026-03-10T00:00:00Z'), nextAfter)).toEqual([
      '2026-03-07T08:30:00.000Z', // 02:30 CST
      '2026-03-08T08:00:00.000Z', // 03:00 CDT, once
      '2026-03-09T07:30:00.000Z', // 02:30 CDT
    ]);
    expect(latestDueTick(at('2026-03-08T00:00:00Z'), at('2026-03-08T12:00:00Z'), nextAfter)).toEqual(
      at('2026-03-08T08:00:00Z'),
    );
    expect(latestDueTick(at('2026-03-08T08:00:00Z'), at('2026-03-09T07:29:00Z'), nextAfter)).toBeUndefined();
  });

  it('fires a daily local-time schedule once on the fall-back day, although its hour happens twice', () => {
    const nextAfter = cronTicks('30 1 * * *', CHICAGO); // 01:30 happens at 06:30Z (CDT) and 07:30Z (CST)
    expect(ticksBetween(at('2026-10-31T00:00:00Z'), at('2026-11-03T00:00:00Z'), nextAfter)).toEqual([
      '2026-10-31T06:30:00.000Z',
      '2026-11-01T06:30:00.000Z',
      '2026-11-02T07:30:00.000Z',
    ]);
    expect(latestDueTick(at('2026-11-01T06:30:00Z'), at('2026-11-01T12:00:00Z'), nextAfter)).toBeUndefined();
  });

  it('keeps a daily schedule on local wall-clock time across both changes', () => {
    const nextAfter = cronTicks('0 6 * * *', CHICAGO);
    const march = ticksBetween(at('2026-03-07T00:00:00Z'), at('2026-03-10T00:00:00Z'), nextAfter);
    const november = ticksBetween(at('2026-10-31T00:00:00Z'), at('2026-11-03T00:00:00Z'), nextAfter);
    expect(march).toEqual(['2026-03-07T12:00:00.000Z', '2026-03-08T11:00:00.000Z', '2026-03-09T11:00:00.000Z']);
    expect(november).toEqual(['2026-10-31T11:00:00.000Z', '2026-11-01T12:00:00.000Z', '2026-11-02T12:00:00.000Z']);
    for (const tick of [...march, ...november]) {
      expect(new Date(tick).toLocaleTimeString('en-GB', { timeZone: CHICAGO })).toBe('06:00:00');
    }
    expect(latestDueTick(at('2026-11-01T00:00:00Z'), at('2026-11-01T18:00:00Z'), nextAfter)).toEqual(
      at('2026-11-01T12:00:00Z'),
    );
  });

  it('gives an hourly schedule 23 ticks on the spring-forward day and 25 on the fall-back day', () => {
    const nextAfter = cronTicks('0 * * * *', CHICAGO);
    // Local midnight to local midnight, ticks at midnight itself excluded at the start and included at the end.
    expect(ticksBetween(at('2026-03-08T06:00:00Z'), at('2026-03-09T05:00:00Z'), nextAfter)).toHaveLength(23);
    expect(ticksBetween(at('2026-11-01T05:00:00Z'), at('2026-11-02T06:00:00Z'), nextAfter)).toHaveLength(25);
  });
});
