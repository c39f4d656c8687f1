import { canonicalJson } from '@app/audit-chain';
import type { AuditEntry } from './audit-entry.js';

/** Longest string an entry keeps, in UTF-16 code units; a longer one is cut at a code point and marked. */
export const MAX_AUDIT_STRING = 4_096;
export const TRUNCATION_MARK = '…[truncated]';
const REPLACEMENT = '\ufffd';

/**
 * What JSON.stringify writes for the characters PostgreSQL's jsonb refuses: U+0000 and lone surrogates, always
 * escaped in lower case. An escaped backslash followed by `u0000` matches too; that entry merely takes the slow
 * path, which finds nothing to change.
 */
const REFUSED_ESCAPE = /\\u(?:0000|d[89a-f])/;
const SURROGATE = /[\ud800-\udfff]/;
const NUL = '\u0000';
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * The entry and its canonical text, made safe to store: every entry is valid jsonb (no U+0000, no lone
 * surrogate: each becomes U+FFFD), every string is at most `MAX_AUDIT_STRING` long, and every value is one
 * canonical JSON can write (a non-finite number becomes null, a bigint its decimal string). An entry that needs
 * none of this, which is nearly every one, costs one regular expression test over its text.
 */
export function storableAuditEntry(entry: AuditEntry): { entry: AuditEntry; text: string } {
  let text: string | undefined;
  try {
    text = canonicalJson(entry);
  } catch {
    // A value canonical JSON cannot hold: the slow path replaces it.
  }
  if (text !== undefined && text.length <= MAX_AUDIT_STRING && !REFUSED_ESCAPE.test(text)) return { entry, text };
  const clean = storableValue(entry) as AuditEntry;
  return { entry: clean, text: canonicalJson(clean) };
}

/** A string as an entry stores it (see `storableAuditEntry`). */
export function storableString(value: string): string {
  let text = value;
  if (text.length > MAX_AUDIT_STRING) {
    text = cutAtCodePoint(text, MAX_AUDIT_STRING - TRUNCATION_MARK.length) + TRUNCATION_MARK;
  }
  if (text.includes(NUL)) text = text.replaceAll(NUL, REPLACEMENT);
  return SURROGATE.test(text) ? text.replace(LONE_SURROGATE, REPLACEMENT) : text;
}

function storableValue(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return storableString(value);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) return Array.from(value, (item: unknown) => storableValue(item ?? null));
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
      const result: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        const stored = storableValue(item);
        if (stored !== undefined) result[storableString(key)] = stored;
      }
      return result;
    }
    case 'function':
    case 'symbol':
    case 'undefined':
      return undefined;
  }
}

function cutAtCodePoint(text: string, max: number): string {
  const cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
