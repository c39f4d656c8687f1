import { entryHash } from '@app/audit-chain';
import { describe, expect, it } from 'vitest';
import { parseAuditEntry, serialiseAuditEntry, toAuditEntry, type AuditEntryDraft } from './audit-entry.js';

const ID = '0b8f8e8a-1c1d-4d6e-9f00-aaaaaaaaaaaa';
const STUDENT_A = '11111111-1111-4111-8111-111111111111';
const STUDENT_B = '22222222-2222-4222-8222-222222222222';

function draft(overrides: Partial<AuditEntryDraft> = {}): AuditEntryDraft {
  return {
    action: 'student.list',
    resource: { type: 'student' },
    actor: { type: 'user', id: 'actor-1', roles: ['teacher', 'school_admin'], schoolIds: ['s-2', 's-1'] },
    studentIds: [STUDENT_B, STUDENT_A, STUDENT_B],
    dataCategories: ['enrollment', 'directory', 'enrollment'],
    outcome: 'allowed',
    origin: { channel: 'http' },
    occurredAt: new Date('2026-11-25T10:15:30.250+01:00'),
    ...overrides,
  };
}

describe('toAuditEntry', () => {
  it('fills every field of version 1, with nulls where the draft said nothing', () => {
    expect(toAuditEntry(ID, draft())).toEqual({
      v: 1,
      id: ID,
      occurredAt: '2026-11-25T09:15:30.250Z',
      action: 'student.list',
      resource: { type: 'student', id: null },
      actor: { type: 'user', id: 'actor-1', roles: ['school_admin', 'teacher'], schoolIds: ['s-1', 's-2'] },
      studentIds: [STUDENT_A, STUDENT_B],
      dataCategories: ['directory', 'enrollment'],
      purpose: null,
      outcome: 'allowed',
      reason: null,
      origin: { channel: 'http', requestId: null, clientIp: null, userAgent: null, route: null },
      details: {},
    });
  });

  it('sorts and de-duplicates students and categories, and sorts roles and schools, without touching the draft', () => {
    const input = draft();
    const entry = toAuditEntry(ID, input);
    expect(entry.studentIds).toEqual([STUDENT_A, STUDENT_B]);
    expect(entry.dataCategories).toEqual(['directory', 'enrollment']);
    expect(entry.actor.roles).toEqual(['school_admin', 'teacher']);
    expect(input.studentIds).toEqual([STUDENT_B, STUDENT_A, STUDENT_B]);
    expect(input.actor.roles).toEqual(['teacher', 'school_admin']);
  });

  it('keeps what the capture point gave: purpose, reason, resource id, origin and details', () => {
    const entry = toAuditEntry(
      ID,
      draft({
        resource: { type: 'student', id: STUDENT_A },
        purpose: 'IEP meeting',
        outcome: 'denied',
        reason: 'ROSTER.ACCESS_DENIED',
        origin: {
          channel: 'http',
          requestId: 'req-1',
          clientIp: '10.0.0.1',
          userAgent: 'Mozilla/5.0',
          route: 'GET /api/v1/students/:id',
        },
        details: { count: 2 },
      }),
    );
    expect(entry).toMatchObject({
      resource: { type: 'student', id: STUDENT_A },
      purpose: 'IEP meeting',
      outcome: 'denied',
      reason: 'ROSTER.ACCESS_DENIED',
      origin: {
        channel: 'http',
        requestId: 'req-1',
        clientIp: '10.0.0.1',
        userAgent: 'Mozilla/5.0',
        route: 'GET /api/v1/students/:id',
      },
      details: { count: 2 },
    });
  });

  it('cuts a long user agent to 512 characters and stores an empty one as null', () => {
    const long = 'A'.repeat(300) + 'B'.repeat(300);
    const cut = toAuditEntry(ID, draft({ origin: { channel: 'http', userAgent: long } })).origin.userAgent;
    expect(cut).toHaveLength(512);
    expect(cut).toBe(long.slice(0, 512));
    expect(toAuditEntry(ID, draft({ origin: { channel: 'http', userAgent: '' } })).origin.userAgent).toBeNull();
    const exact = 'x'.repeat(512);
    expect(toAuditEntry(ID, draft({ origin: { channel: 'http', userAgent: exact } })).origin.userAgent).toBe(exact);
  });

  it('records the system as an actor without id, roles or schools', () => {
    const entry = toAuditEntry(
      ID,
      draft({ actor: { type: 'system', id: null, roles: [], schoolIds: [] }, origin: { channel: 'job' } }),
    );
    expect(entry.actor).toEqual({ type: 'system', id: null, roles: [], schoolIds: [] });
    expect(entry.origin.channel).toBe('job');
  });
});

describe('serialiseAuditEntry', () => {
  it('gives identical bytes (and hash) for drafts that differ only in list order and key order', () => {
    const one = serialiseAuditEntry(toAuditEntry(ID, draft()));
    const reordered = draft({
      studentIds: [STUDENT_A, STUDENT_B],
      dataCategories: ['directory', 'enrollment'],
      actor: { schoolIds: ['s-1', 's-2'], roles: ['school_admin', 'teacher'], id: 'actor-1', type: 'user' },
    });
    const two = serialiseAuditEntry(toAuditEntry(ID, reordered));
    expect(two).toBe(one);
    expect(entryHash(two).equals(entryHash(one))).toBe(true);
    expect(one.startsWith('{"action":"student.list","actor":{"id":"actor-1","roles":["school_admin","teacher"]')).toBe(
      true,
    );
  });

  it('round-trips through parseAuditEntry', () => {
    const entry = toAuditEntry(ID, draft({ purpose: 'Ünïcødé 😀', details: { nested: { b: 1, a: [true] } } }));
    const text = serialiseAuditEntry(entry);
    expect(parseAuditEntry(text)).toEqual(entry);
    expect(serialiseAuditEntry(parseAuditEntry(text))).toBe(text);
  });
});
