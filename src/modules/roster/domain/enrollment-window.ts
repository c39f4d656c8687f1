/**
 * When an enrollment grants access to a class and its students. SIS feeds keep end-dated enrollments
 * "active" (OneRoster has no status for "ended"), so the status alone says nothing about today: an enrollment
 * counts from its begin date (inclusive) until its end date plus a grace period for end-of-term grading. With
 * no end date of its own, the latest end date of its class's terms bounds it; with neither, it does not end.
 * Dates are calendar dates (`YYYY-MM-DD`) compared as such.
 */
export interface EnrollmentDates {
  beginDate: string | null;
  endDate: string | null;
  /** The latest end date of the class's terms, when it has any with an end date. */
  termEndDate: string | null;
}

/** The dates an access check compares with: today, and the earliest end date still inside the grace period. */
export interface AccessWindow {
  today: string;
  endedNoEarlierThan: string;
}

export function accessWindow(now: Date, graceDays: number): AccessWindow {
  if (!Number.isInteger(graceDays) || graceDays < 0) throw new RangeError('graceDays must be a whole number >= 0');
  const today = calendarDate(now);
  const earliest = new Date(`${today}T00:00:00.000Z`);
  earliest.setUTCDate(earliest.getUTCDate() - graceDays);
  return { today, endedNoEarlierThan: calendarDate(earliest) };
}

/** Mirrored by the read model's `currentEnrollment`. */
export function enrollmentGrantsAccess(dates: EnrollmentDates, window: AccessWindow): boolean {
  if (dates.beginDate !== null && dates.beginDate > window.today) return false;
  const end = dates.endDate ?? dates.termEndDate;
  return end === null || end >= window.endedNoEarlierThan;
}

/** The UTC calendar date of an instant. */
function calendarDate(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}
