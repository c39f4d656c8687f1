/**
 * The delta predicate `dateLastModified>='2026-01-01T00:00:00.000Z'`: full-precision UTC and `>=`, so a record
 * modified in the same millisecond as the watermark is read again rather than lost. The client URL-encodes it.
 */
export function dateLastModifiedSinceFilter(since: Date): string {
  if (Number.isNaN(since.getTime())) throw new RangeError('The delta watermark is not a valid date');
  return `dateLastModified>='${since.toISOString()}'`;
}
