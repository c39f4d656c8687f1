import { isUuid, UUID_PATTERN } from '@app/ddd';

/** Local ids of mirrored records are UUIDs; any version is accepted because the database only needs the shape. */
export const ROSTER_ID_PATTERN = UUID_PATTERN;

export function isRosterId(value: string): boolean {
  return isUuid(value);
}
