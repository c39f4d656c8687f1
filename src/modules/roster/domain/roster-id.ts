/** Local ids of mirrored records are UUIDs; any version is accepted because the database only needs the shape. */
export const ROSTER_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isRosterId(value: string): boolean {
  return ROSTER_ID_PATTERN.test(value);
}
