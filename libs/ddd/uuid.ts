/**
 * A UUID in its canonical text form, any version and either case: the shape PostgreSQL's `uuid` type accepts,
 * so an id that fails this is refused (or not found) before it reaches SQL. One definition for the app.
 */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID (see `UUID_PATTERN`). Not a type guard: a string that fails is still a string. */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
