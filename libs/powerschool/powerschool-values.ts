import { calendarDateOf, textOf } from '@app/oneroster';

/**
 * Tolerant readers for PowerSchool JSON. The API sends a collection of one record as a bare object, an empty
 * expansion as `""`, and numbers and booleans as strings about as often as not; these readers accept each form.
 * Like the OneRoster readers they return null for an empty value and undefined for one they cannot read.
 */
export { calendarDateOf, textOf };

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object, the first object of an array, or null (`""`, null, absent, or anything else). */
export function objectOf(value: unknown): JsonObject | null {
  if (isJsonObject(value)) return value;
  if (Array.isArray(value)) return value.find(isJsonObject) ?? null;
  return null;
}

/** A collection as an array: an array as is (objects only), a lone object as `[object]`, `""`/null as `[]`. */
export function itemsOf(value: unknown): JsonObject[] {
  if (Array.isArray(value)) return value.filter(isJsonObject);
  if (isJsonObject(value)) return [value];
  return [];
}

/** A whole number, sent as a JSON number or a numeric string (`"42"`, `"-1"`). */
export function integerOf(value: unknown): number | null | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (!/^[-+]?\d+(\.0+)?$/.test(trimmed)) return undefined;
  return Number.parseInt(trimmed, 10);
}

const TRUE_WORDS = new Set(['true', '1', 'y', 'yes', 't']);
const FALSE_WORDS = new Set(['false', '0', 'n', 'no', 'f']);

/** A flag: JSON booleans, `"true"`/`"false"`, `1`/`0`, `"Y"`/`"N"`, `"yes"`/`"no"`. */
export function flagOf(value: unknown): boolean | null | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1 ? true : value === 0 ? false : undefined;
  const text = textOf(value);
  if (text === null || text === undefined) return text;
  const lower = text.toLowerCase();
  if (TRUE_WORDS.has(lower)) return true;
  if (FALSE_WORDS.has(lower)) return false;
  return undefined;
}

/**
 * A PowerSchool record id (a DCID) as the text sourcedIds are made of: `5011`, `"5011"` and `5011.0` are all
 * `"5011"`. Anything that is not a whole number is refused (undefined).
 */
export function idOf(value: unknown): string | null | undefined {
  const number = integerOf(value);
  if (number === null || number === undefined) return number;
  return String(number);
}

/** The calendar day before `date` (`YYYY-MM-DD`): PowerSchool exit dates are exclusive, the mirror's inclusive. */
export function dayBefore(date: string): string {
  const [year, month, day] = date.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, day - 1)).toISOString().slice(0, 10);
}

/**
 * PowerSchool grade levels (integers, `0` kindergarten, negatives before it) as CEDS grade codes:
 * `-2` PR, `-1` PK, `0` KG, `1`..`13` `01`..`13`; anything else `Other`.
 */
export function gradeCodeOf(value: unknown): string | null {
  const level = integerOf(value);
  if (level === null || level === undefined) return null;
  if (level === 0) return 'KG';
  if (level === -1) return 'PK';
  if (level <= -2) return 'PR';
  if (level >= 1 && level <= 13) return String(level).padStart(2, '0');
  return 'Other';
}
