import type { BlackoutWindow } from './sis-connection.js';
import { blackoutAt } from './sync-schedule.js';

/**
 * The first tick of a schedule after `from` that is not inside a blackout window (dates read in the
 * schedule's time zone), or null when there is none within `maxWindows` blackout jumps. `nextAfter` is the
 * cron's next-tick function (strictly after its argument).
 */
export function nextScheduledRun(
  from: Date,
  nextAfter: (instant: Date) => Date | null,
  timeZone: string,
  windows: readonly BlackoutWindow[],
  maxWindows = 1_000,
): Date | null {
  let cursor = from;
  for (let step = 0; step < maxWindows; step += 1) {
    const tick = nextAfter(cursor);
    if (!tick || Number.isNaN(tick.getTime())) return null;
    const blackout = blackoutAt(tick, timeZone, windows);
    if (!blackout) return tick;
    // Jump to just before the first local midnight after the window instead of walking every tick through it.
    const resume = startOfLocalDay(dayAfter(blackout.to), timeZone).getTime() - 1;
    cursor = new Date(Math.max(tick.getTime(), resume));
  }
  return null;
}

/** The instant a calendar date (`YYYY-MM-DD`) begins in a time zone (the first instant of that date). */
export function startOfLocalDay(date: string, timeZone: string): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const wallClock = Date.UTC(year, month - 1, day);
  let instant = wallClock - offsetMs(new Date(wallClock), timeZone);
  // Once more with the offset in force at the first guess (the date may start on the other side of a DST change).
  instant = wallClock - offsetMs(new Date(instant), timeZone);
  return new Date(instant);
}

function dayAfter(date: string): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day + 1)).toISOString().slice(0, 10);
}

/** Local wall-clock time minus UTC at this instant, in milliseconds. */
function offsetMs(at: Date, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(at)
      .map((part) => [part.type, part.value]),
  ) as Record<string, string>;
  const local = Date.UTC(
    Number(parts['year']),
    Number(parts['month']) - 1,
    Number(parts['day']),
    Number(parts['hour']),
    Number(parts['minute']),
    Number(parts['second']),
  );
  return local - Math.floor(at.getTime() / 1000) * 1000;
}
