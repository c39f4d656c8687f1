import type { BlackoutWindow } from './sis-connection.js';

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** The blackout window that covers this instant in the connection's time zone, if any. */
export function blackoutAt(at: Date, timeZone: string, windows: readonly BlackoutWindow[]): BlackoutWindow | undefined {
  const day = localDate(at, timeZone);
  return windows.find((window) => window.from <= day && day <= window.to);
}

/** The latest tick at or before `now`, given the next-tick function of a cron schedule; undefined if none since `from`. */
export function latestDueTick(
  from: Date,
  now: Date,
  nextAfter: (instant: Date) => Date,
  maxSteps = 10_000,
): Date | undefined {
  let due: Date | undefined;
  let cursor = from;
  for (let step = 0; step < maxSteps; step += 1) {
    const next = nextAfter(cursor);
    if (next.getTime() > now.getTime()) return due;
    due = next;
    cursor = next;
  }
  return due;
}
