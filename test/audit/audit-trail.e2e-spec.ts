import { canonicalJson, chainHash, entryHash, GENESIS_HASH } from '@app/audit-chain';
import { CommandBus } from '@nestjs/cqrs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PurgeExpiredAuditEntriesCommand, type RetentionPurgeResult } from '../../src/modules/audit/index.js';
import { generateDistrict, writeOneRosterCsvZip } from '../fakes/oneroster/index.js';
import { seedRoster, type SeededRoster } from '../roster/seed-roster.js';
import { AUDIT_DISTRICT } from './audit-district.js';
import { eventually, importAndWait, sql } from '../sis-sync/sync-support.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';

const PASSWORD = 'a-long-enough-password';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const YEAR_MS = 365.25 * 86_400_000;

type Caller = 'admin' | 'compliance' | 'teacher' | 'southAdmin';

interface StoredEntry {
  seq: string;
  occurredAt: string;
  action: string;
  outcome: string;
  reason: string | null;
  studentIds: string[];
  resource: { type: string; id: string | null };
  actor: { type: string; id: string | null; roles: string[]; schoolIds: string[] };
  origin: { channel: string };
  details: Record<string, unknown>;
}

describe('audit trail: queries, export, disclosures, legal holds, retention, sync runs', () => {
  let app: TestApp;
  let url: string;
  let roster: SeededRoster;
  const tokens = {} as Record<Caller, string>;
  const userIds = {} as Record<Caller, string>;
  const student = (sourcedId: string) => roster.id('people', sourcedId);

  const as = (caller: Caller) => ({
    get: (path: string) => request(url).get(`/api/v1${path}`).set(bearer(tokens[caller])),
    post: (path: string, body?: object) =>
      request(url)
        .post(`/api/v1${path}`)
        .set(bearer(tokens[caller]))
        .send(body ?? {}),
  });

  async function createUser(caller: Caller, email: string, roles: string[], schoolIds: string[] = []): Promise<void> {
    const created = await request(url)
      .post('/api/v1/users')
      .set(bearer(tokens.admin))
      .send({ email, displayName: email, password: PASSWORD, roles, schoolIds })
      .expect(201);
    userIds[caller] = (created.body as { id: string }).id;
    tokens[caller] = (await login(url, email, PASSWORD)).accessToken;
  }

  /** Every stored entry (purged ones have no payload), oldest first. */
  async function entries(where = 'true', values: unknown[] = []): Promise<StoredEntry[]> {
    const rows = await sql<{ seq: string; entry: string }>(
      app.databaseUrl,
      `SELECT p.seq::text AS seq, p.entry FROM audit_event_payloads p WHERE ${where} ORDER BY p.seq`,
      values,
    );
    return rows.map((row) => ({ seq: row.seq, ...(JSON.parse(row.entry) as Omit<StoredEntry, 'seq'>) }));
  }

  /** Recomputes the chain as an offline verifier would: every hash, link and (where kept) entry text. */
  async function verifyChain(): Promise<{ entries: number; purged: number }> {
    const rows = await sql<{
      seq: string;
      entry_hash: Buffer;
      prev_hash: Buffer;
      hash: Buffer;
      entry: string | null;
      purged: boolean;
    }>(
      app.databaseUrl,
      `SELECT e.seq::text AS seq, e.entry_hash, e.prev_hash, e.hash, p.entry,
              EXISTS (SELECT 1 FROM audit_purged_events x WHERE x.seq = e.seq) AS purged
         FROM audit_events e LEFT JOIN audit_event_payloads p USING (seq) ORDER BY e.seq`,
    );
    let prev = GENESIS_HASH;
    let purged = 0;
    rows.forEach((row, index) => {
      expect(row.seq).toBe(String(index + 1));
      expect(row.prev_hash.equals(prev), `prev_hash of ${row.seq}`).toBe(true);
      expect(chainHash(prev, BigInt(row.seq), row.entry_hash).equals(row.hash), `hash of ${row.seq}`).toBe(true);
      if (row.entry === null) {
        // A missing entry is only legitimate when the purge recorded dropping it.
        expect(row.purged, `entry ${row.seq} is missing without a purge record`).toBe(true);
        purged += 1;
      } else {
        expect(entryHash(row.entry).equals(row.entry_hash), `entry_hash of ${row.seq}`).toBe(true);
        expect(canonicalJson(JSON.parse(row.entry))).toBe(row.entry);
      }
      prev = row.hash;
    });
    return { entries: rows.length, purged };
  }

  beforeAll(async () => {
    app = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    url = app.url;
    roster = await seedRoster(app.databaseUrl, AUDIT_DISTRICT);
    tokens.admin = (await login(url)).accessToken;
    await createUser('compliance', 'compliance@district.test', ['compliance_officer']);
    await createUser('teacher', 'ms.rivera@district.test', ['teacher']);
    await createUser('southAdmin', 'south.admin@district.test', ['school_admin'], [roster.id('orgs', 'sch-south')]);
  });

  afterAll(async () => {
    await app?.close();
  });

  describe('who accessed what', () => {
    it('shows a compliance officer that the teacher read the student, at once, with everything 99.32 asks', async () => {
      const jose = student('stu-jose');
      const zoe = student('stu-zoe');
      await as('teacher').get(`/students/${jose}`).set('X-Access-Purpose', 'Grading follow-up').expect(200);
      await as('teacher').get(`/students/${zoe}`).expect(403);

      const access = await as('compliance').get(`/audit/students/${jose}/access`).expect(200);
      expect(access.body.studentId).toBe(jose);
      const [read] = access.body.items;
      expect(read).toMatchObject({
        action: 'student.read',
        outcome: 'allowed',
        reason: null,
        purpose: 'Grading follow-up',
        channel: 'http',
        route: 'GET /api/v1/students/:id',
        actor: { type: 'user', id: userIds.teacher, roles: ['teacher'], schoolIds: [] },
        resource: { type: 'student', id: jose },
      });
      expect(read.requestId).toEqual(expect.any(String));
      expect(read.clientIp).toEqual(expect.any(String));
      expect(Date.parse(read.occurredAt)).not.toBeNaN();

      const denied = await as('compliance').get(`/audit/students/${zoe}/access?outcome=denied`).expect(200);
      expect(denied.body.items).toHaveLength(1);
      expect(denied.body.items[0]).toMatchObject({
        action: 'student.read',
        outcome: 'denied',
        reason: 'ROSTER.ACCESS_DENIED',
        actor: { id: userIds.teacher },
      });
      // Only the compliance officer's own reading of Zoë's log is an allowed entry about her.
      const allowed = await as('compliance').get(`/audit/students/${zoe}/access?outcome=allowed`).expect(200);
      expect(allowed.body.items.map((item: { action: string }) => item.action)).toEqual(['audit.read']);
    });

    it('filters the trail by actor, student, action, outcome and time, newest first, page by page', async () => {
      const jose = student('stu-jose');
      const zoe = student('stu-zoe');
      const byTeacher = await as('compliance').get(`/audit/events?actorId=${userIds.teacher}`).expect(200);
      const items = byTeacher.body.items as StoredEntry[];
      expect(items.map((item) => [item.action, item.outcome, item.studentIds])).toEqual([
        ['student.read', 'denied', [zoe]],
        ['student.read', 'allowed', [jose]],
      ]);
      expect(BigInt(items[0].seq)).toBeGreaterThan(BigInt(items[1].seq));
      expect(byTeacher.body.nextCursor).toBeNull();

      const first = await as('compliance').get(`/audit/events?actorId=${userIds.teacher}&limit=1`).expect(200);
      expect(first.body.items.map((item: StoredEntry) => item.seq)).toEqual([items[0].seq]);
      expect(first.body.nextCursor).toBe(items[0].seq);
      const second = await as('compliance')
        .get(`/audit/events?actorId=${userIds.teacher}&limit=1&cursor=${first.body.nextCursor}`)
        .expect(200);
      expect(second.body.items.map((item: StoredEntry) => item.seq)).toEqual([items[1].seq]);
      expect(second.body.nextCursor).toBeNull();

      const allowedForJose = await as('compliance')
        .get(`/audit/events?studentId=${jose}&action=student.read&outcome=allowed`)
        .expect(200);
      expect(allowedForJose.body.items.map((item: StoredEntry) => item.seq)).toEqual([items[1].seq]);
      const studentAndActor = await as('compliance')
        .get(`/audit/events?studentId=${zoe}&actorId=${userIds.teacher}`)
        .expect(200);
      expect(studentAndActor.body.items.map((item: StoredEntry) => item.seq)).toEqual([items[0].seq]);

      const before = new Date(Date.parse(items[1].occurredAt) - 60_000).toISOString();
      const after = new Date(Date.now() + 60_000).toISOString();
      expect(
        (await as('compliance').get(`/audit/events?actorId=${userIds.teacher}&to=${before}`).expect(200)).body.items,
      ).toEqual([]);
      expect(
        (await as('compliance').get(`/audit/events?actorId=${userIds.teacher}&from=${after}`).expect(200)).body.items,
      ).toEqual([]);
      expect(
        (await as('compliance').get(`/audit/events?actorId=${userIds.teacher}&from=${before}&to=${after}`).expect(200))
          .body.items,
      ).toHaveLength(2);
    });

    it("groups a user's accesses by student and flags students outside the user's schools", async () => {
      const jose = student('stu-jose');
      const zoe = student('stu-zoe');
      await as('southAdmin').get(`/students/${zoe}`).expect(200);
      await as('southAdmin').get(`/students/${jose}`).expect(403);

      const grouped = await as('compliance').get(`/audit/actors/${userIds.southAdmin}/access`).expect(200);
      expect(grouped.body.actor).toEqual({ roles: ['school_admin'], schoolIds: [roster.id('orgs', 'sch-south')] });
      const byStudent = new Map(
        (grouped.body.students as { studentId: string }[]).map((group) => [group.studentId, group]),
      );
      expect(byStudent.get(zoe)).toMatchObject({
        accesses: 1,
        denied: 0,
        actions: ['student.read'],
        outsideActorSchools: false,
      });
      expect(byStudent.get(jose)).toMatchObject({ accesses: 1, denied: 1, outsideActorSchools: true });
      expect(byStudent.size).toBe(2);

      const flat = await as('compliance').get(`/audit/actors/${userIds.southAdmin}/access?view=flat`).expect(200);
      expect(flat.body.items.map((item: StoredEntry) => item.studentIds)).toEqual([[jose], [zoe]]);

      // A teacher has no school scope of their own: nothing to judge "outside" against.
      const teacher = await as('compliance').get(`/audit/actors/${userIds.teacher}/access`).expect(200);
      expect(
        (teacher.body.students as { outsideActorSchools: boolean | null }[]).map((group) => group.outsideActorSchools),
      ).toEqual([null, null]);
    });

    it('refuses teachers and school administrators (403) and records each refusal as a denied entry', async () => {
      const jose = student('stu-jose');
      const attempts: [Caller, string, string, 'get' | 'post'][] = [
        ['teacher', 'audit.read', '/audit/events', 'get'],
        ['teacher', 'audit.read', `/audit/students/${jose}/access`, 'get'],
        ['teacher', 'audit.export', `/audit/export?studentId=${jose}`, 'get'],
        ['teacher', 'disclosure.create', '/audit/disclosures', 'post'],
        ['southAdmin', 'audit.read', `/audit/actors/${userIds.teacher}/access`, 'get'],
        ['southAdmin', 'audit.read', `/audit/students/${jose}/disclosures`, 'get'],
        ['southAdmin', 'legal_hold.place', '/audit/legal-holds', 'post'],
        ['southAdmin', 'audit.read', '/audit/legal-holds', 'get'],
      ];
      const before = await entries("outcome = 'denied'");
      for (const [caller, , path, method] of attempts) {
        const response = await as(caller)[method](path);
        expect(response.status, `${caller} ${method} ${path}`).toBe(403);
      }
      const after = (await entries("outcome = 'denied'")).slice(before.length);
      expect(after.map((entry) => [entry.actor.id, entry.action])).toEqual(
        attempts.map(([caller, action]) => [userIds[caller], action]),
      );
      expect(new Set(after.map((entry) => entry.reason))).toEqual(new Set(['IDENTITY.FORBIDDEN']));
      // Subjects known from the route are recorded even on refusal.
      expect(after[1].studentIds).toEqual([jose]);
      expect(after[2].studentIds).toEqual([jose]);

      // The refusals are themselves visible through the trail and in the denied-access read model.
      const seen = await as('compliance')
        .get(`/audit/events?actorId=${userIds.teacher}&outcome=denied&action=audit.read`)
        .expect(200);
      expect(seen.body.items).toHaveLength(2);
      const projected = await sql<{ reason: string }>(
        app.databaseUrl,
        'SELECT reason FROM audit_denied_access WHERE seq = ANY($1::bigint[])',
        [after.map((entry) => entry.seq)],
      );
      expect(projected.map((row) => row.reason)).toEqual(after.map(() => 'IDENTITY.FORBIDDEN'));

      await as('admin').get('/audit/events?limit=1').expect(200);
    });

    it('answers malformed filters with 400 problems, never a 500', async () => {
      const cases: [string, string][] = [
        ['/audit/events?limit=0', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/events?limit=201', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/events?limit=ten', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/events?studentId=42', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/events?studentId=a&studentId=b', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/events?actorId=%27%20OR%201=1', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/events?outcome=maybe', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/events?action=DROP%20TABLE', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/events?from=yesterday', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/events?to=2026-02-30T00:00:00Z', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/events?cursor=abc', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/events?cursor=99999999999999999999', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/events?unknown=1', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/events?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'AUDIT.INVALID_RANGE'],
        ['/audit/students/not-a-uuid/access', 'REQUEST.VALIDATION_FAILED'],
        [`/audit/actors/${UNKNOWN_ID}/access?cursor=12`, 'AUDIT.INVALID_CURSOR'],
        [`/audit/actors/${UNKNOWN_ID}/access?view=flat&cursor=${UNKNOWN_ID}`, 'AUDIT.INVALID_CURSOR'],
        ['/audit/export?format=xml', 'REQUEST.VALIDATION_FAILED'],
        [`/audit/students/${UNKNOWN_ID}/disclosures?scope=some`, 'REQUEST.VALIDATION_FAILED'],
        ['/audit/legal-holds?active=maybe', 'REQUEST.VALIDATION_FAILED'],
        ['/audit/legal-holds?cursor=bm9wZQ', 'AUDIT.INVALID_CURSOR'],
      ];
      for (const [path, code] of cases) {
        const response = await as('compliance').get(path);
        expect([response.status, response.body.code], path).toEqual([400, code]);
      }
      const nobody = crypto.randomUUID();
      const empty = await as('compliance').get(`/audit/students/${nobody}/access`).expect(200);
      expect(empty.body).toEqual({ studentId: nobody, items: [], nextCursor: null });
    });
  });

  describe('disclosures (34 CFR 99.32)', () => {
    let disclosureId: string;

    const disclosure = (overrides: Record<string, unknown> = {}) => ({
      studentIds: [student('stu-jose'), student('stu-ana')],
      party: { name: 'State Education Agency', type: 'agency' },
      basis: 'authorized_representative',
      legitimateInterest: 'Audit of the state-funded attendance programme',
      dataCategories: ['attendance', 'enrollment'],
      disclosedOn: new Date().toISOString().slice(0, 10),
      redisclosureParties: [{ name: 'US Department of Education', legitimateInterest: 'Federal programme review' }],
      ...overrides,
    });

    it('records a disclosure and its chained entry together', async () => {
      const created = await as('compliance').post('/audit/disclosures', disclosure()).expect(201);
      disclosureId = created.body.id;
      expect(created.body).toMatchObject({
        basis: 'authorized_representative',
        recordRequired: true,
        party: { name: 'State Education Agency', type: 'agency' },
        recordedBy: userIds.compliance,
        emergency: null,
      });
      const stored = await sql(app.databaseUrl, 'SELECT party_name, basis FROM audit_disclosures WHERE id = $1', [
        disclosureId,
      ]);
      expect(stored).toEqual([{ party_name: 'State Education Agency', basis: 'authorized_representative' }]);
      const [recorded] = await entries(`action = 'disclosure.recorded' AND entry LIKE $1`, [`%${disclosureId}%`]);
      expect(recorded).toMatchObject({
        resource: { type: 'disclosure', id: disclosureId },
        actor: { id: userIds.compliance },
        studentIds: [student('stu-jose'), student('stu-ana')].sort(),
        details: { basis: 'authorized_representative', partyType: 'agency', recordRequired: true },
      });
      // Free text (party names, interests) stays in the disclosure record, out of the hash chain.
      expect(JSON.stringify(recorded)).not.toContain('State Education Agency');
      const [access] = await entries(`action = 'disclosure.create' AND outcome = 'allowed'`);
      expect(access.studentIds).toEqual(recorded.studentIds);
    });

    it("lists the student's record of disclosures, leaving out other students and, on request, the exempt ones", async () => {
      const jose = student('stu-jose');
      const exempt = await as('compliance')
        .post(
          '/audit/disclosures',
          disclosure({ studentIds: [jose], basis: 'school_official', redisclosureParties: [] }),
        )
        .expect(201);
      expect(exempt.body.recordRequired).toBe(false);

      const all = await as('compliance').get(`/audit/students/${jose}/disclosures`).expect(200);
      expect(all.body.scope).toBe('all');
      expect(all.body.items.map((item: { id: string }) => item.id)).toEqual([disclosureId, exempt.body.id]);
      expect(all.body.items[0].studentIds).toEqual([jose]);
      expect(all.body.items[0].redisclosureParties).toEqual([
        { name: 'US Department of Education', legitimateInterest: 'Federal programme review' },
      ]);
      const required = await as('compliance').get(`/audit/students/${jose}/disclosures?scope=required`).expect(200);
      expect(required.body.items.map((item: { id: string }) => item.id)).toEqual([disclosureId]);
      const zoe = await as('compliance')
        .get(`/audit/students/${student('stu-zoe')}/disclosures`)
        .expect(200);
      expect(zoe.body.items).toEqual([]);

      // The read model of disclosures per student follows the chain.
      await as('compliance').get('/audit/events?limit=1').expect(200);
      const logged = await sql<{ student_id: string }>(
        app.databaseUrl,
        'SELECT student_id FROM audit_disclosure_log WHERE disclosure_id = $1 ORDER BY student_id',
        [disclosureId],
      );
      expect(logged.map((row) => row.student_id)).toEqual([jose, student('stu-ana')].sort());
    });

    it('writes the record as CSV for a parent, safe to open in a spreadsheet', async () => {
      const ana = student('stu-ana');
      await as('compliance')
        .post(
          '/audit/disclosures',
          disclosure({ studentIds: [ana], party: { name: '=HYPERLINK("http://x.test","y")', type: 'individual' } }),
        )
        .expect(201);
      const csv = await as('compliance')
        .get(`/audit/students/${ana}/disclosures`)
        .set('Accept', 'text/csv')
        .expect(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const lines = csv.text.trimEnd().split('\r\n');
      expect(lines[0]).toBe(
        'disclosureId,disclosedOn,partyName,partyType,basis,recordRequired,legitimateInterest,dataCategories,' +
          'redisclosureParties,emergencyThreat,emergencyRecipients,parentNotifiedAt,recordedAt,recordedBy',
      );
      expect(lines).toHaveLength(3);
      expect(lines[1]).toContain(`${disclosureId},`);
      expect(lines[2]).toContain(',"\'=HYPERLINK(""http://x.test"",""y"")",individual,');
    });

    it('answers 422 listing the fields, for missing fields, emergencies without a threat and unknown students', async () => {
      const [{ count: before }] = await sql<{ count: number }>(
        app.databaseUrl,
        'SELECT count(*)::int AS count FROM audit_disclosures',
      );
      const empty = await as('compliance').post('/audit/disclosures', {}).expect(422);
      expect(empty.body.code).toBe('AUDIT.DISCLOSURE_INCOMPLETE');
      expect(empty.body.fields).toEqual([
        'studentIds',
        'party.name',
        'party.type',
        'basis',
        'legitimateInterest',
        'dataCategories',
        'disclosedOn',
      ]);

      const noThreat = await as('compliance')
        .post(
          '/audit/disclosures',
          disclosure({ basis: 'health_safety_emergency', emergency: { recipients: ['County EMS'] } }),
        )
        .expect(422);
      expect(noThreat.body).toMatchObject({ code: 'AUDIT.DISCLOSURE_INCOMPLETE', fields: ['emergency.threat'] });
      const noEmergency = await as('compliance')
        .post('/audit/disclosures', disclosure({ basis: 'health_safety_emergency' }))
        .expect(422);
      expect(noEmergency.body.fields).toEqual(['emergency.threat', 'emergency.recipients']);
      const wrongTypes = await as('compliance')
        .post('/audit/disclosures', disclosure({ studentIds: 'all of them', basis: 'because' }))
        .expect(422);
      expect(wrongTypes.body.fields).toEqual(['studentIds', 'basis']);

      const unknown = await as('compliance')
        .post('/audit/disclosures', disclosure({ studentIds: [student('stu-jose'), UNKNOWN_ID] }))
        .expect(422);
      expect(unknown.body).toMatchObject({ code: 'AUDIT.UNKNOWN_STUDENTS', unknownStudentIds: [UNKNOWN_ID] });
      // A teacher is not a student, so cannot be the subject of a disclosure record.
      await as('compliance')
        .post('/audit/disclosures', disclosure({ studentIds: [roster.id('people', 'tch-rivera')] }))
        .expect(422);

      // Bodies of the wrong shape are the client's fault too: a 4xx that is recorded, never a 500.
      const oddCodes: string[] = [];
      for (const odd of [[], [1, 2], { party: null, emergency: [], redisclosureParties: {} }, { studentIds: [null] }]) {
        const response = await as('compliance').post('/audit/disclosures', odd);
        expect([400, 422], JSON.stringify(odd)).toContain(response.status);
        oddCodes.push(response.body.code as string);
      }
      const text = await request(url)
        .post('/api/v1/audit/disclosures')
        .set(bearer(tokens.compliance))
        .set('Content-Type', 'application/json')
        .send('"just a string"');
      // Refused by the body parser before routing: still an attempt on this route, recorded as failed.
      expect([text.status, text.body.code]).toEqual([400, 'HTTP.MALFORMED_BODY']);
      const extra = await as('compliance').post('/audit/disclosures', disclosure({ recordedBy: UNKNOWN_ID }));
      expect([extra.status, extra.body.code]).toEqual([400, 'REQUEST.VALIDATION_FAILED']);

      const emergency = await as('compliance')
        .post(
          '/audit/disclosures',
          disclosure({
            basis: 'health_safety_emergency',
            emergency: {
              threat: 'Gas leak reported in the science wing',
              recipients: ['County EMS', 'Fire department'],
            },
          }),
        )
        .expect(201);
      expect(emergency.body.emergency).toEqual({
        threat: 'Gas leak reported in the science wing',
        recipients: ['County EMS', 'Fire department'],
      });

      const [{ count: afterCount }] = await sql<{ count: number }>(
        app.databaseUrl,
        'SELECT count(*)::int AS count FROM audit_disclosures',
      );
      expect(afterCount).toBe(before + 1);
      const failed = await entries(`action = 'disclosure.create' AND outcome = 'failed'`);
      expect(failed.map((entry) => entry.reason)).toEqual([
        'AUDIT.DISCLOSURE_INCOMPLETE',
        'AUDIT.DISCLOSURE_INCOMPLETE',
        'AUDIT.DISCLOSURE_INCOMPLETE',
        'AUDIT.DISCLOSURE_INCOMPLETE',
        'AUDIT.UNKNOWN_STUDENTS',
        'AUDIT.UNKNOWN_STUDENTS',
        ...oddCodes,
        'HTTP.MALFORMED_BODY',
        'REQUEST.VALIDATION_FAILED',
      ]);
    });

    it('refuses at the database a record that lacks a 99.32 field', async () => {
      const client = new pg.Client({ connectionString: app.databaseUrl });
      await client.connect();
      const insert = (overrides: Record<string, unknown>) => {
        const row: Record<string, unknown> = {
          id: crypto.randomUUID(),
          student_ids: [student('stu-jose')],
          party_name: 'County court',
          party_type: 'court',
          basis: 'judicial_order_or_subpoena',
          legitimate_interest: 'Subpoena 2026-114',
          data_categories: ['attendance'],
          disclosed_on: '2026-11-01',
          recorded_by: userIds.compliance,
          recorded_at: new Date().toISOString(),
          ...overrides,
        };
        const columns = Object.keys(row);
        return client.query(
          `INSERT INTO audit_disclosures (${columns.join(', ')}) VALUES (${columns.map((_c, i) => `$${i + 1}`).join(', ')})`,
          Object.values(row),
        );
      };
      try {
        await expect(insert({ legitimate_interest: '  ' })).rejects.toMatchObject({
          code: '23514',
          constraint: 'audit_disclosures_interest_check',
        });
        await expect(insert({ party_name: null })).rejects.toMatchObject({ code: '23502' });
        await expect(insert({ basis: 'curiosity' })).rejects.toMatchObject({
          constraint: 'audit_disclosures_basis_check',
        });
        await expect(insert({ student_ids: [] })).rejects.toMatchObject({
          constraint: 'audit_disclosures_students_check',
        });
        await expect(insert({ basis: 'health_safety_emergency' })).rejects.toMatchObject({
          constraint: 'audit_disclosures_emergency_check',
        });
        await expect(
          insert({ basis: 'health_safety_emergency', threat_description: 'Fire', emergency_recipients: '[]' }),
        ).rejects.toMatchObject({ constraint: 'audit_disclosures_emergency_check' });
        await expect(insert({})).resolves.toBeDefined();
      } finally {
        await client.end();
      }
    });
  });

  describe('export', () => {
    it('streams the matching entries oldest first as CSV, with formula-looking cells neutralised', async () => {
      const jose = student('stu-jose');
      await as('teacher').get(`/students/${jose}`).set('User-Agent', '=1+2').expect(200);
      const response = await as('compliance').get(`/audit/export?studentId=${jose}&format=csv`).expect(200);
      expect(response.headers['content-type']).toMatch(/^text\/csv/);
      expect(response.headers['content-disposition']).toMatch(/attachment; filename="audit-trail-.*\.csv"/);
      const lines = response.text.trimEnd().split('\r\n');
      expect(lines[0].split(',')).toEqual([
        'seq',
        'occurredAt',
        'action',
        'outcome',
        'reason',
        'actorType',
        'actorId',
        'actorRoles',
        'actorSchoolIds',
        'studentIds',
        'dataCategories',
        'purpose',
        'resourceType',
        'resourceId',
        'channel',
        'requestId',
        'clientIp',
        'userAgent',
        'route',
        'details',
        'entryId',
      ]);
      // The export itself was recorded before it started writing, naming the student it was filtered on; its
      // own entry came after the first batch was read, so it is not part of the file.
      const exported = await entries(`action = 'audit.export' AND outcome = 'allowed' AND actor_id = $1`, [
        userIds.compliance,
      ]);
      expect(exported.at(-1)).toMatchObject({ studentIds: [jose], resource: { type: 'audit_trail' } });
      const expected = await entries(`student_ids @> ARRAY[$1::uuid] AND seq < $2`, [jose, exported.at(-1)!.seq]);
      const seqs = lines.slice(1).map((line) => line.split(',')[0]);
      expect(seqs).toEqual(expected.map((entry) => entry.seq));
      expect(lines.some((line) => line.includes(",'=1+2,GET /api/v1/students/:id,"))).toBe(true);
    });

    it('streams JSON Lines: one stored entry per line, with its seq', async () => {
      const response = await as('compliance')
        .get(`/audit/export?actorId=${userIds.teacher}&action=student.read`)
        .buffer(true)
        .parse((res, done) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => done(null, text));
        })
        .expect(200);
      expect(response.headers['content-type']).toMatch(/^application\/x-ndjson/);
      const lines = (response.body as string).trimEnd().split('\n');
      const parsed = lines.map((line) => JSON.parse(line) as StoredEntry & { seq: number });
      const expected = await entries(`actor_id = $1 AND action = 'student.read'`, [userIds.teacher]);
      expect(parsed.map((entry) => String(entry.seq))).toEqual(expected.map((entry) => entry.seq));
      for (const entry of parsed) {
        const { seq, ...stored } = entry;
        const [row] = await sql<{ entry: string }>(
          app.databaseUrl,
          'SELECT entry FROM audit_event_payloads WHERE seq = $1',
          [seq],
        );
        expect(canonicalJson(stored)).toBe(row.entry);
      }
    });
  });

  describe('sync runs', () => {
    it('records one roster_sync.applied entry per run that changed the roster, none for a dry run', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'homeroom-audit-sync-'));
      try {
        const dataset = generateDistrict({ seed: 'audit-sync', schools: 1, students: 12, teachers: 2, classes: 2 });
        const path = join(dir, 'package.zip');
        await writeOneRosterCsvZip(dataset, { version: '1.2', mode: 'bulk', path });
        const dry = await importAndWait(url, tokens.admin, path, { dryRun: true });
        const real = await importAndWait(url, tokens.admin, path, { connectionId: dry.connectionId });
        expect(real.state).toBe('succeeded');
        const [applied] = await eventually(
          async () => {
            const found = await entries(`action = 'roster_sync.applied'`);
            return found.length > 0 ? found : undefined;
          },
          10_000,
          'the roster_sync.applied entry',
        );
        expect(applied).toMatchObject({
          resource: { type: 'sync_run', id: real.id },
          actor: { type: 'system', id: null },
          studentIds: [],
          dataCategories: ['roster_sync'],
          origin: { channel: 'job' },
          details: { runId: real.id, connectionId: real.connectionId, outcome: 'succeeded' },
        });
        const counts = applied.details['counts'] as Record<string, Record<string, number>>;
        expect(counts['people']?.['created']).toBe(dataset.users.length);
        expect(counts).toEqual(real.counts);
        // The dry run applied nothing and left no entry; neither does a run that finds nothing to change.
        const again = await importAndWait(url, tokens.admin, path, { connectionId: dry.connectionId });
        expect(again.state).toBe('succeeded');
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect((await entries(`action = 'roster_sync.applied'`)).map((entry) => entry.resource.id)).toEqual([real.id]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('retention and legal holds', () => {
    let holdId: string;
    const purge = (years: number): Promise<RetentionPurgeResult> =>
      app.app.get(CommandBus).execute(new PurgeExpiredAuditEntriesCommand(new Date(Date.now() + years * YEAR_MS)));

    it('places, lists and validates legal holds', async () => {
      const ana = student('stu-ana');
      await as('admin').get(`/students/${ana}`).expect(200);
      const placed = await as('compliance')
        .post('/audit/legal-holds', { studentId: ana, reason: 'Inspection request of 2026-11-20' })
        .expect(201);
      holdId = placed.body.id;
      expect(placed.body).toMatchObject({
        studentId: ana,
        active: true,
        placedBy: userIds.compliance,
        releasedAt: null,
      });
      const [entry] = await entries(`action = 'legal_hold.placed'`);
      expect(entry).toMatchObject({ resource: { id: holdId }, studentIds: [ana], details: { holdId } });
      expect(JSON.stringify(entry)).not.toContain('Inspection request');

      const listed = await as('compliance').get(`/audit/legal-holds?studentId=${ana}&active=true`).expect(200);
      expect(listed.body.items.map((hold: { id: string }) => hold.id)).toEqual([holdId]);
      expect((await as('compliance').get(`/audit/legal-holds?active=false`).expect(200)).body.items).toEqual([]);

      const unknown = await as('compliance').post('/audit/legal-holds', { studentId: UNKNOWN_ID, reason: 'x' });
      expect([unknown.status, unknown.body.code]).toEqual([422, 'AUDIT.UNKNOWN_STUDENTS']);
      const blank = await as('compliance').post('/audit/legal-holds', { studentId: ana, reason: '   ' });
      expect([blank.status, blank.body.code]).toEqual([422, 'AUDIT.LEGAL_HOLD_REASON_INVALID']);
      const missing = await as('compliance').post('/audit/legal-holds', { studentId: ana });
      expect([missing.status, missing.body.code]).toEqual([400, 'REQUEST.VALIDATION_FAILED']);
    });

    it('purges expired entries with a moved clock, keeping disclosures and held students, and the chain still verifies', async () => {
      const jose = student('stu-jose');
      const ana = student('stu-ana');
      const [{ head }] = await sql<{ head: string }>(
        app.databaseUrl,
        'SELECT max(seq)::text AS head FROM audit_events',
      );
      const josesDisclosures = await entries(
        `action LIKE 'disclosure.%' AND outcome = 'allowed' AND student_ids @> ARRAY[$1::uuid]`,
        [jose],
      );
      expect(josesDisclosures.length).toBeGreaterThan(0);

      const result = await purge(8);
      expect(result.purged).toBeGreaterThan(0);

      const kept = await entries('seq <= $1', [head]);
      for (const entry of kept) {
        const disclosureOfExistingStudent = entry.action.startsWith('disclosure.') && entry.studentIds.length > 0;
        expect(disclosureOfExistingStudent || entry.studentIds.includes(ana), `${entry.seq} ${entry.action}`).toBe(
          true,
        );
      }
      expect(kept.filter((entry) => entry.studentIds.includes(jose)).map((entry) => entry.seq)).toEqual(
        josesDisclosures.map((entry) => entry.seq),
      );
      expect(kept.some((entry) => entry.action === 'student.read' && entry.studentIds.includes(ana))).toBe(true);

      const [recorded] = await entries(`action = 'audit.retention.purge'`);
      expect(recorded).toMatchObject({
        actor: { type: 'system', id: null },
        outcome: 'allowed',
        origin: { channel: 'job' },
        details: { purged: result.purged, cutoff: result.cutoff.toISOString() },
      });
      const chain = await verifyChain();
      expect(chain.purged).toBe(result.purged);
      expect(chain.entries).toBeGreaterThan(Number(head));

      // The read models forgot the purged entries too: only the disclosures remain in the student's access log.
      const access = await as('compliance').get(`/audit/students/${jose}/access?limit=200`).expect(200);
      expect(
        (access.body.items as { seq: string }[]).map((item) => item.seq).filter((seq) => BigInt(seq) <= BigInt(head)),
      ).toEqual(josesDisclosures.map((entry) => entry.seq).reverse());
    });

    it("releases a hold once, after which the next purge removes the student's entries", async () => {
      const ana = student('stu-ana');
      const released = await as('compliance').post(`/audit/legal-holds/${holdId}/release`).expect(200);
      expect(released.body).toMatchObject({ id: holdId, active: false, releasedBy: userIds.compliance });
      expect(released.body.releasedAt).toEqual(expect.any(String));
      const again = await as('compliance').post(`/audit/legal-holds/${holdId}/release`);
      expect([again.status, again.body.code]).toEqual([409, 'AUDIT.LEGAL_HOLD_ALREADY_RELEASED']);
      const unknown = await as('compliance').post(`/audit/legal-holds/${UNKNOWN_ID}/release`);
      expect([unknown.status, unknown.body.code]).toEqual([404, 'AUDIT.LEGAL_HOLD_NOT_FOUND']);
      await as('compliance').post('/audit/legal-holds/nope/release').expect(400);
      const [releaseEntry] = await entries(`action = 'legal_hold.released'`);
      expect(releaseEntry).toMatchObject({ studentIds: [ana], details: { holdId } });

      const result = await purge(8);
      expect(result.purged).toBeGreaterThan(0);
      const aboutAna = await entries('student_ids @> ARRAY[$1::uuid]', [ana]);
      expect(aboutAna.length).toBeGreaterThan(0);
      expect(aboutAna.every((entry) => entry.action.startsWith('disclosure.'))).toBe(true);
      expect((await verifyChain()).purged).toBeGreaterThan(result.purged);
    });
  });
});
