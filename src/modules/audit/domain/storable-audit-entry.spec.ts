import { canonicalJson } from '@app/audit-chain';
import { describe, expect, it } from 'vitest';
import { toAuditEntry, type AuditEntryDraft } from './audit-entry.js';
import { MAX_AUDIT_STRING, storableAuditEntry, storableString, TRUNCATION_MARK } from './storable-audit-entry.js';

const ID = '0b8f8e8a-1c1d-4d6e-9f00-aaaaaaaaaaaa';

function draft(overrides: Partial<AuditEntryDraft> = {}): AuditEntryDraft {
  return {
    action: 'student.read',
    resource: { type: 'student', id: null },
    actor: { type: 'user', id: null, roles: [], schoolIds: [] },
    studentIds: [],
    dataCategories: ['directory'],
    outcome: 'denied',
    reason: 'IDENTITY.TOKEN_INVALID',
    origin: { channel: 'http', userAgent: 'curl/8.5 😀' },
    occurredAt: new Date('2026-12-07T10:00:00Z'),
    ...overrides,
  };
}

describe('storableAuditEntry', () => {
  it('keeps an ordinary entry as it is, with its canonical text (the hash of existing entries is unchanged)', () => {
    const entry = toAuditEntry(ID, draft({ details: { path: 'a/b', emoji: '😀', control: '\t\u0001' } }));
    const stored = storableAuditEntry(entry);
    expect(stored.entry).toBe(entry);
    expect(stored.text).toBe(canonicalJson(entry));
    // A backslash followed by `u0000` is only text: it takes the slow path and comes out the same.
    const lookalike = toAuditEntry(ID, draft({ details: { path: 'a\\u0000b' } }));
    expect(storableAuditEntry(lookalike)).toEqual({ entry: lookalike, text: canonicalJson(lookalike) });
  });

  it('replaces NUL and lone surrogates with U+FFFD everywhere, keys included, and keeps pairs', () => {
    const stored = storableAuditEntry(
      toAuditEntry(
        ID,
        draft({
          resource: { type: 'student', id: 'a\u0000b' },
          reason: '\ud800X\udc00',
          details: { 'k\u0000': ['\udfff😀\ud83d'], ok: 'é' },
        }),
      ),
    );
    expect(stored.entry.resource.id).toBe('a\ufffdb');
    expect(stored.entry.reason).toBe('\ufffdX\ufffd');
    expect(stored.entry.details).toEqual({ 'k\ufffd': ['\ufffd😀\ufffd'], ok: 'é' });
    expect(stored.entry.origin.userAgent).toBe('curl/8.5 😀');
    expect(stored.text).toBe(canonicalJson(stored.entry));
    expect(stored.text).not.toMatch(/\\u(0000|d[89a-f])/);
  });

  it('caps a long string at a code point, marked, and makes every value one canonical JSON can write', () => {
    const long = '😀'.repeat(60_000);
    const stored = storableAuditEntry(
      toAuditEntry(ID, draft({ purpose: long, details: { n: Number.NaN, big: 12n, when: new Date(0), f: () => 1 } })),
    );
    expect(stored.entry.purpose!.length).toBeLessThanOrEqual(MAX_AUDIT_STRING);
    expect(stored.entry.purpose!.endsWith(TRUNCATION_MARK)).toBe(true);
    expect(stored.entry.purpose).toBe(storableString(stored.entry.purpose!));
    expect(stored.entry.details).toEqual({ n: null, big: '12', when: '1970-01-01T00:00:00.000Z' });
    expect(JSON.parse(stored.text)).toEqual(stored.entry);
  });
});
