/**
 * Parsers for OneRoster scalar values as REST JSON and CSV deliver them. Each returns null for an empty value and
 * undefined for one it cannot read; messages about bad values never quote them (they may be student data).
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$/;
/** What most servers send, and what `instantOf` returns: checked field by field instead of parsed and reprinted. */
const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CANONICAL_DATE = /^\d{4}-\d{2}-\d{2}$/;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{2}|\d{4})$/;
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Text as given, trimmed; numbers and booleans (some servers send them unquoted) as their string form. */
export function textOf(value: unknown): string | null | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed === '' ? null : trimmed;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

/** A JSON array of strings, or a CSV comma list (`"09,10"`). */
export function listOf(value: unknown): string[] | undefined {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) {
    const items = value.map(textOf);
    if (items.some((item) => item === undefined)) return undefined;
    return items.filter((item): item is string => item !== null);
  }
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
  const single = textOf(value);
  return single === undefined ? undefined : single === null ? [] : [single];
}

/** `true`/`false` in any case, or a JSON boolean. */
export function booleanOf(value: unknown): boolean | null | undefined {
  if (typeof value === 'boolean') return value;
  const text = textOf(value);
  if (text === null || text === undefined) return text;
  const lower = text.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  return undefined;
}

/**
 * A calendar date `YYYY-MM-DD`, never shifted by a time zone: an ISO date-time keeps the date it was written with,
 * and legacy `m/d/yyyy` (or `m/d/yy`, 00–49 → 20xx, 50–99 → 19xx) files are accepted.
 */
export function calendarDateOf(value: unknown): string | null | undefined {
  const text = textOf(value);
  if (text === null || text === undefined) return text;
  if (CANONICAL_DATE.test(text))
    return isRealDate(digits(text, 0, 4), digits(text, 5, 7), digits(text, 8, 10)) ? text : undefined;
  let year: number;
  let month: number;
  let day: number;
  const iso = ISO_DATE.exec(text);
  const us = iso ? null : US_DATE.exec(text);
  if (iso) {
    [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  } else if (us) {
    [month, day, year] = [Number(us[1]), Number(us[2]), Number(us[3])];
    if (us[3].length === 2) year += year < 50 ? 2000 : 1900;
  } else {
    return undefined;
  }
  if (!isRealDate(year, month, day)) return undefined;
  return `${String(year).padStart(4, '0')}-${pad(month)}-${pad(day)}`;
}

/** An instant as UTC ISO 8601 with milliseconds. Without an offset the value is read as UTC, as the spec says. */
export function instantOf(value: unknown): string | null | undefined {
  const text = textOf(value);
  if (text === null || text === undefined) return text;
  if (CANONICAL_INSTANT.test(text)) {
    const valid =
      isRealDate(digits(text, 0, 4), digits(text, 5, 7), digits(text, 8, 10)) &&
      digits(text, 11, 13) <= 23 &&
      digits(text, 14, 16) <= 59 &&
      digits(text, 17, 19) <= 59;
    return valid ? text : undefined;
  }
  const match = ISO_DATE_TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const [hour, minute, second] = [Number(match[4] ?? 0), Number(match[5] ?? 0), Number(match[6] ?? 0)];
  const milliseconds = Number((match[7] ?? '0').padEnd(3, '0').slice(0, 3));
  if (!isRealDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = match[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2, 4) || '0');
    if (hours > 23 || minutes > 59) return undefined;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  }
  const epoch = Date.UTC(year, month - 1, day, hour, minute, second, milliseconds) - offsetMinutes * 60_000;
  return new Date(epoch).toISOString();
}

/** The school year as its ending year: `2024`, or from a range such as `2023-24` or `2023-2024`. */
export function schoolYearOf(value: unknown): number | null | undefined {
  const text = textOf(value);
  if (text === null || text === undefined) return text;
  if (/^\d{4}$/.test(text)) return Number(text);
  const range = /^(\d{4})\s*[-/]\s*(\d{2}|\d{4})$/.exec(text);
  if (!range) return undefined;
  const start = Number(range[1]);
  const end = range[2].length === 4 ? Number(range[2]) : Math.floor(start / 100) * 100 + Number(range[2]);
  const ending = end < start ? end + 100 : end;
  return ending === start + 1 ? ending : undefined;
}

/** `{type:identifier}` CSV items, or REST `[{type, identifier}]`. */
export function userIdsOf(value: unknown): { type: string; identifier: string }[] | undefined {
  if (value === null || value === undefined || value === '') return [];
  if (Array.isArray(value)) {
    const ids: { type: string; identifier: string }[] = [];
    for (const item of value) {
      if (typeof item !== 'object' || item === null) return undefined;
      const { type, identifier } = item as Record<string, unknown>;
      const typeText = textOf(type);
      const identifierText = textOf(identifier);
      if (!typeText || !identifierText) return undefined;
      ids.push({ type: typeText, identifier: identifierText });
    }
    return ids;
  }
  if (typeof value !== 'string') return undefined;
  const ids: { type: string; identifier: string }[] = [];
  const pattern = /\{([^:{}]+):([^{}]*)\}/g;
  let rest = value;
  for (const match of value.matchAll(pattern)) {
    ids.push({ type: match[1].trim(), identifier: match[2].trim() });
    rest = rest.replace(match[0], '');
  }
  return rest.replace(/[\s,]/g, '') === '' ? ids : undefined;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]);
}

/** The decimal number written by the ASCII digits `text[start..end)` (the caller has matched them). */
function digits(text: string, start: number, end: number): number {
  let value = 0;
  for (let index = start; index < end; index += 1) value = value * 10 + text.charCodeAt(index) - 48;
  return value;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
