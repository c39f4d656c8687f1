import { chainHash, entryHash, GENESIS_HASH } from '@app/audit-chain';
import pg from 'pg';
import request, { type Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/modules/audit/index.js';
import { seedRoster, type SeededRoster } from '../roster/seed-roster.js';
import { AUDIT_DISTRICT } from './audit-district.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';

const PASSWORD = 'a-long-enough-password';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const USER_AGENT = 'audit-e2e/1.0 (vitest; +https://district.test)';
/** The advisory lock the chain trigger takes for each append (see the audit migration). */
const CHAIN_LOCK = [20261125, 1];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Caller = 'admin' | 'sisOperator' | 'compliance' | 'northAdmin' | 'southAdmin' | 'rivera' | 'noClasses';

interface Call {
  label: string;
  response: Response;
  requestId: string;
  startedAt: number;
  endedAt: number;
}

interface StoredEntry {
  seq: string;
  entry: AuditEntry;
}

describe('audit capture of student-scoped routes', () => {
  let testApp: TestApp;
  let url: string;
  let db: pg.Client;
  let roster: SeededRoster;
  const tokens = {} as Record<Caller, string>;
  const actors = {} as Record<Caller, { id: string; roles: string[]; schoolIds: string[] }>;

  const student = (sourcedId: string) => roster.id('people', sourcedId);
  const cls = (sourcedId: string) => roster.id('classes', sourcedId);

  async function call(
    caller: Caller | null,
    method: 'get' | 'patch' | 'delete' | 'post',
    path: string,
    options: { body?: object; purpose?: string; accept?: string } = {},
  ): Promise<Call> {
    const startedAt = Date.now();
    let pending = request(url)[method](`/api/v1${path}`).set('User-Agent', USER_AGENT);
    if (caller) pending = pending.set(bearer(tokens[caller]));
    if (options.purpose !== undefined) pending = pending.set('X-Access-Purpose', options.purpose);
    if (options.accept) pending = pending.set('Accept', options.accept);
    const response = await (options.body ? pending.send(options.body) : pending);
    const requestId = response.headers['x-request-id'];
    expect(requestId, `${method} ${path} answered without X-Request-Id`).toMatch(/^[A-Za-z0-9._:-]{8,128}$/);
    return { label: `${method.toUpperCase()} ${path}`, response, requestId, startedAt, endedAt: Date.now() };
  }

  async function entriesOf(requestId: string): Promise<StoredEntry[]> {
    const { rows } = await db.query<{ seq: string; entry: string }>(
      `SELECT seq::text AS seq, entry FROM audit_event_payloads
        WHERE entry::jsonb #>> '{origin,requestId}' = $1 ORDER BY seq`,
      [requestId],
    );
    return rows.map((row) => ({ seq: row.seq, entry: JSON.parse(row.entry) as AuditEntry }));
  }

  /** Exactly one entry for the call, with the parts every HTTP entry shares checked here. */
  async function onlyEntry(made: Call): Promise<AuditEntry> {
    const entries = await entriesOf(made.requestId);
    expect(entries, `entries for ${made.label}`).toHaveLength(1);
    const { entry } = entries[0];
    expect(entry.v).toBe(1);
    expect(entry.id).toMatch(UUID);
    expect(entry.occurredAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const at = Date.parse(entry.occurredAt);
    expect(at).toBeGreaterThanOrEqual(made.startedAt - 5);
    expect(at).toBeLessThanOrEqual(made.endedAt + 5);
    expect(entry.origin).toMatchObject({
      channel: 'http',
      requestId: made.requestId,
      clientIp: '127.0.0.1',
      userAgent: USER_AGENT,
    });
    expect(entry.details).toEqual({});
    return entry;
  }

  /**
   * Waits until a session is queued on the chain's append lock (held by this test's connection); with `wrote`,
   * one whose transaction has already written to that table.
   */
  async function waitForChainLockWaiter(wrote?: string): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt += 1) {
      const { rows } = await db.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_locks waiter
          WHERE waiter.locktype = 'advisory' AND waiter.classid = $1 AND waiter.objid = $2 AND NOT waiter.granted
            AND ($3::text IS NULL OR EXISTS (
              SELECT 1 FROM pg_locks written
               WHERE written.pid = waiter.pid AND written.locktype = 'relation' AND written.granted
                 AND written.relation = $3::regclass AND written.mode = 'RowExclusiveLock'))`,
        [...CHAIN_LOCK, wrote ?? null],
      );
      if (rows[0].waiting > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('nothing queued on the audit chain lock');
  }

  const actor = (caller: Caller) => ({
    type: 'user',
    id: actors[caller].id,
    roles: [...actors[caller].roles].sort(),
    schoolIds: [...actors[caller].schoolIds].sort(),
  });
  const anonymous = { type: 'user', id: null, roles: [], schoolIds: [] };
  const sorted = (ids: string[]) => [...ids].sort();

  async function createUser(caller: Caller, email: string, roles: string[], schoolIds: string[] = []): Promise<void> {
    await request(url)
      .post('/api/v1/users')
      .set(bearer(tokens.admin))
      .send({ email, displayName: email, password: PASSWORD, roles, schoolIds })
      .expect(201);
    tokens[caller] = (await login(url, email, PASSWORD)).accessToken;
  }

  beforeAll(async () => {
    testApp = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    url = testApp.url;
    roster = await seedRoster(testApp.databaseUrl, AUDIT_DISTRICT);
    db = new pg.Client({ connectionString: testApp.databaseUrl });
    await db.connect();

    tokens.admin = (await login(url)).accessToken;
    await createUser('sisOperator', 'sis@district.test', ['sis_operator']);
    await createUser('compliance', 'compliance@district.test', ['compliance_officer']);
    await createUser('northAdmin', 'north.admin@district.test', ['school_admin'], [roster.id('orgs', 'sch-north')]);
    await createUser('southAdmin', 'south.admin@district.test', ['school_admin'], [roster.id('orgs', 'sch-south')]);
    await createUser('rivera', 'ms.rivera@district.test', ['teacher']);
    await createUser('noClasses', 'no.classes@district.test', ['teacher']);
    for (const caller of Object.keys(tokens) as Caller[]) {
      const me = await request(url).get('/api/v1/auth/me').set(bearer(tokens[caller])).expect(200);
      actors[caller] = me.body as { id: string; roles: string[]; schoolIds: string[] };
    }
  });

  afterAll(async () => {
    await db?.end();
    await testApp?.close();
  });

  describe('allowed reads', () => {
    it('GET /students records the students the page returned, and the purpose the client gave', async () => {
      const made = await call('admin', 'get', '/students', { purpose: '  Counselor review of schedules  ' });
      expect(made.response.status).toBe(200);
      const returned = (made.response.body.items as { id: string }[]).map((item) => item.id);
      expect(returned).toHaveLength(4);
      expect(await onlyEntry(made)).toEqual({
        v: 1,
        id: expect.any(String),
        occurredAt: expect.any(String),
        action: 'student.list',
        resource: { type: 'student', id: null },
        actor: actor('admin'),
        studentIds: sorted(returned),
        dataCategories: ['directory', 'enrollment'],
        purpose: 'Counselor review of schedules',
        outcome: 'allowed',
        reason: null,
        origin: {
          channel: 'http',
          requestId: made.requestId,
          clientIp: '127.0.0.1',
          userAgent: USER_AGENT,
          route: 'GET /api/v1/students',
        },
        details: {},
      });
    });

    it('GET /students by a teacher records only the students of their classes; an empty page records none', async () => {
      const made = await call('rivera', 'get', '/students');
      expect(made.response.status).toBe(200);
      const entry = await onlyEntry(made);
      expect(entry.studentIds).toEqual(sorted([student('stu-jose'), student('stu-sam')]));
      expect(entry.actor).toEqual(actor('rivera'));
      expect(entry.purpose).toBeNull();

      const empty = await call('noClasses', 'get', '/students');
      expect(empty.response.body.items).toEqual([]);
      expect(await onlyEntry(empty)).toMatchObject({ action: 'student.list', outcome: 'allowed', studentIds: [] });
    });

    it('GET /students/:id records the student, the categories shown and the route template', async () => {
      const made = await call('rivera', 'get', `/students/${student('stu-jose')}`);
      expect(made.response.status).toBe(200);
      expect(await onlyEntry(made)).toMatchObject({
        action: 'student.read',
        resource: { type: 'student', id: student('stu-jose') },
        actor: actor('rivera'),
        studentIds: [student('stu-jose')],
        dataCategories: ['contact', 'demographics', 'directory', 'enrollment', 'guardians'],
        purpose: null,
        outcome: 'allowed',
        reason: null,
        origin: { route: 'GET /api/v1/students/:id' },
      });
    });

    it('records an upper-case id in the URL as the lower-case student id', async () => {
      const made = await call('admin', 'get', `/students/${student('stu-sam').toUpperCase()}`);
      expect(made.response.status).toBe(200);
      expect((await onlyEntry(made)).studentIds).toEqual([student('stu-sam')]);
    });

    it('GET /classes/:id/roster records the class and its students, not its teachers', async () => {
      const made = await call('northAdmin', 'get', `/classes/${cls('cls-alg')}/roster`, { purpose: 'attendance' });
      expect(made.response.status).toBe(200);
      expect(await onlyEntry(made)).toMatchObject({
        action: 'class_roster.read',
        resource: { type: 'class', id: cls('cls-alg') },
        actor: actor('northAdmin'),
        studentIds: sorted([student('stu-jose'), student('stu-sam')]),
        dataCategories: ['directory', 'enrollment'],
        purpose: 'attendance',
        outcome: 'allowed',
        origin: { route: 'GET /api/v1/classes/:id/roster' },
      });
    });

    it('stores the entry of a read before the response leaves', async () => {
      await db.query('SELECT pg_advisory_lock($1, $2)', CHAIN_LOCK);
      let settled = false;
      const pending = call('admin', 'get', `/students/${student('stu-zoe')}`).finally(() => {
        settled = true;
      });
      try {
        await waitForChainLockWaiter();
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(settled).toBe(false);
      } finally {
        await db.query('SELECT pg_advisory_unlock($1, $2)', CHAIN_LOCK);
      }
      const made = await pending;
      expect(made.response.status).toBe(200);
      expect(await onlyEntry(made)).toMatchObject({ action: 'student.read', studentIds: [student('stu-zoe')] });
    });

    it('keeps a purpose to 200 characters and treats a blank one as none', async () => {
      const long = await call('admin', 'get', `/students/${student('stu-ana')}`, { purpose: 'p'.repeat(500) });
      expect((await onlyEntry(long)).purpose).toBe('p'.repeat(200));
      const blank = await call('admin', 'get', `/students/${student('stu-ana')}`, { purpose: '   ' });
      expect((await onlyEntry(blank)).purpose).toBeNull();
    });
  });

  describe('writes', () => {
    it('PATCH /students/:id commits the change and its entry in one transaction', async () => {
      const id = student('stu-jose');
      // Hold the chain's append lock: the PATCH then stops at its audit append, after its UPDATE and before
      // its COMMIT, so we can look at what it has made visible so far.
      await db.query('SELECT pg_advisory_lock($1, $2)', CHAIN_LOCK);
      let settled = false;
      const pending = call('northAdmin', 'patch', `/students/${id}`, {
        body: { preferredFirstName: 'Joe', pronouns: 'he/him' },
        purpose: 'Family asked for the preferred name',
      }).finally(() => {
        settled = true;
      });
      try {
        await waitForChainLockWaiter('roster_people');
        const midway = await db.query('SELECT preferred_first_name FROM roster_people WHERE id = $1', [id]);
        expect(midway.rows[0].preferred_first_name).toBeNull();
        expect(settled).toBe(false);
      } finally {
        await db.query('SELECT pg_advisory_unlock($1, $2)', CHAIN_LOCK);
      }
      const made = await pending;
      expect(made.response.status, JSON.stringify(made.response.body)).toBe(200);
      const [stored] = await entriesOf(made.requestId);
      expect(await onlyEntry(made)).toMatchObject({
        action: 'student.update',
        resource: { type: 'student', id },
        actor: actor('northAdmin'),
        studentIds: [id],
        dataCategories: ['contact', 'directory'],
        purpose: 'Family asked for the preferred name',
        outcome: 'allowed',
        origin: { route: 'PATCH /api/v1/students/:id' },
      });
      // Field names and values stay out of the entry: ids and categories only.
      expect(JSON.stringify(stored.entry)).not.toContain('Joe');
      const person = await db.query('SELECT preferred_first_name, pronouns FROM roster_people WHERE id = $1', [id]);
      expect(person.rows[0]).toMatchObject({ preferred_first_name: 'Joe', pronouns: 'he/him' });
    });

    it('DELETE /students/:id/local-edits/:field records one entry and brings the SIS value back', async () => {
      const id = student('stu-jose');
      const made = await call('admin', 'delete', `/students/${id}/local-edits/preferredFirstName`);
      expect(made.response.status, JSON.stringify(made.response.body)).toBe(200);
      expect(await onlyEntry(made)).toMatchObject({
        action: 'student.local_edit.clear',
        resource: { type: 'student', id },
        actor: actor('admin'),
        studentIds: [id],
        outcome: 'allowed',
        origin: { route: 'DELETE /api/v1/students/:id/local-edits/:field' },
      });
      const person = await db.query('SELECT preferred_first_name FROM roster_people WHERE id = $1', [id]);
      expect(person.rows[0].preferred_first_name).toBeNull();
    });

    it('a refused edit stores one denied entry and no change', async () => {
      const id = student('stu-sam');
      const made = await call('southAdmin', 'patch', `/students/${id}`, { body: { preferredFirstName: 'Nope' } });
      expect(made.response.status).toBe(403);
      expect(made.response.body.code).toBe('ROSTER.EDIT_DENIED');
      expect(await onlyEntry(made)).toMatchObject({
        action: 'student.update',
        actor: actor('southAdmin'),
        studentIds: [id],
        outcome: 'denied',
        reason: 'ROSTER.EDIT_DENIED',
      });
      const person = await db.query('SELECT preferred_first_name FROM roster_people WHERE id = $1', [id]);
      expect(person.rows[0].preferred_first_name).toBeNull();
    });
  });

  describe('denied calls', () => {
    it.each<[string, Caller | null, 'get' | 'patch' | 'delete', () => string, number, string, () => string[]]>([
      [
        'a teacher reading a student outside their classes',
        'rivera',
        'get',
        () => `/students/${student('stu-ana')}`,
        403,
        'ROSTER.ACCESS_DENIED',
        () => [student('stu-ana')],
      ],
      [
        'a school admin reading a student of another school',
        'southAdmin',
        'get',
        () => `/students/${student('stu-jose')}`,
        403,
        'ROSTER.ACCESS_DENIED',
        () => [student('stu-jose')],
      ],
      [
        'a teacher reading the roster of a class not theirs',
        'rivera',
        'get',
        () => `/classes/${cls('cls-art')}/roster`,
        403,
        'ROSTER.ACCESS_DENIED',
        () => [],
      ],
      [
        'a call without a token',
        null,
        'get',
        () => `/students/${student('stu-jose')}`,
        401,
        'IDENTITY.TOKEN_INVALID',
        () => [student('stu-jose')],
      ],
      ['a list without a token', null, 'get', () => '/students', 401, 'IDENTITY.TOKEN_INVALID', () => []],
      [
        'a teacher editing a student (role not allowed)',
        'rivera',
        'patch',
        () => `/students/${student('stu-jose')}`,
        403,
        'IDENTITY.FORBIDDEN',
        () => [student('stu-jose')],
      ],
      [
        'a compliance officer clearing a local edit (role not allowed)',
        'compliance',
        'delete',
        () => `/students/${student('stu-jose')}/local-edits/pronouns`,
        403,
        'IDENTITY.FORBIDDEN',
        () => [student('stu-jose')],
      ],
    ])('%s → one denied entry', async (_label, caller, method, path, status, reason, studentIds) => {
      const made = await call(caller, method, path(), method === 'patch' ? { body: { pronouns: 'x' } } : {});
      expect(made.response.status).toBe(status);
      expect(made.response.body.code).toBe(reason);
      const entry = await onlyEntry(made);
      expect(entry).toMatchObject({
        outcome: 'denied',
        reason,
        actor: caller ? actor(caller) : anonymous,
        studentIds: sorted(studentIds()),
      });
      expect(entry.origin.route).toMatch(/^(GET|PATCH|DELETE) \/api\/v1\/(students|classes)/);
    });

    it('records HEAD requests like the GET they stand for, allowed or denied', async () => {
      for (const [sourcedId, status, outcome] of [
        ['stu-jose', 200, 'allowed'],
        ['stu-ana', 403, 'denied'],
      ] as const) {
        const response = await request(url)
          .head(`/api/v1/students/${student(sourcedId)}`)
          .set('User-Agent', USER_AGENT)
          .set(bearer(tokens.rivera));
        expect(response.status).toBe(status);
        const entries = await entriesOf(response.headers['x-request-id']);
        expect(entries.map((stored) => stored.entry)).toEqual([
          expect.objectContaining({
            action: 'student.read',
            outcome,
            studentIds: [student(sourcedId)],
            origin: expect.objectContaining({ route: 'HEAD /api/v1/students/:id' }),
          }),
        ]);
      }
    });

    it('records the actor of a denied call from a valid token, and nobody for a forged one', async () => {
      const forged = await request(url)
        .get(`/api/v1/students/${student('stu-jose')}`)
        .set('User-Agent', USER_AGENT)
        .set('Authorization', 'Bearer not.a.jwt');
      expect(forged.status).toBe(401);
      const [stored] = await entriesOf(forged.headers['x-request-id']);
      expect(stored.entry).toMatchObject({ outcome: 'denied', actor: anonymous, reason: 'IDENTITY.TOKEN_INVALID' });
    });
  });

  describe('failed calls', () => {
    it('an unknown student → 404 and one failed entry naming the id asked for', async () => {
      const made = await call('admin', 'get', `/students/${UNKNOWN_ID}`);
      expect(made.response.status).toBe(404);
      expect(await onlyEntry(made)).toMatchObject({
        action: 'student.read',
        actor: actor('admin'),
        studentIds: [UNKNOWN_ID],
        outcome: 'failed',
        reason: 'ROSTER.STUDENT_NOT_FOUND',
        origin: { route: 'GET /api/v1/students/:id' },
      });
    });

    it('an edit whose body is not JSON, or too large, is refused before routing and still leaves one failed entry', async () => {
      const id = student('stu-zoe');
      for (const [body, status, reason] of [
        ['{"pronouns": "they/them", ', 400, 'HTTP.MALFORMED_BODY'],
        [JSON.stringify({ pronouns: 'x'.repeat(1_100_000) }), 413, 'HTTP.PAYLOAD_TOO_LARGE'],
      ] as const) {
        const startedAt = Date.now();
        const response = await request(url)
          .patch(`/api/v1/students/${id}`)
          .set(bearer(tokens.admin))
          .set('User-Agent', USER_AGENT)
          .set('content-type', 'application/json')
          .send(body);
        expect(response.status).toBe(status);
        expect(response.body.code).toBe(reason);
        const made = {
          label: `PATCH /students/${id} (${reason})`,
          response,
          requestId: response.headers['x-request-id'],
          startedAt,
          endedAt: Date.now(),
        };
        // Refused before authentication ran: the entry names the student and the route, not the caller.
        expect(await onlyEntry(made)).toMatchObject({
          action: 'student.update',
          resource: { type: 'student', id },
          actor: anonymous,
          studentIds: [id],
          outcome: 'failed',
          reason,
          origin: { route: 'PATCH /api/v1/students/:id' },
        });
      }
      const exempt = await request(url)
        .post('/api/v1/auth/login')
        .set('content-type', 'application/json')
        .send('{"email": ');
      expect(exempt.status).toBe(400);
      expect(await entriesOf(exempt.headers['x-request-id'])).toEqual([]);
    });

    it('a malformed id → 400 and one failed entry without student ids', async () => {
      const made = await call('admin', 'get', '/students/not-a-uuid');
      expect(made.response.status).toBe(400);
      expect(await onlyEntry(made)).toMatchObject({
        action: 'student.read',
        resource: { type: 'student', id: 'not-a-uuid' },
        studentIds: [],
        outcome: 'failed',
        reason: 'REQUEST.VALIDATION_FAILED',
      });
    });

    it('an edit with a field that is not locally owned → 400, one failed entry, no change', async () => {
      const id = student('stu-zoe');
      const made = await call('admin', 'patch', `/students/${id}`, { body: { givenName: 'Changed' } });
      expect(made.response.status).toBe(400);
      expect(await onlyEntry(made)).toMatchObject({
        action: 'student.update',
        studentIds: [id],
        outcome: 'failed',
        reason: 'REQUEST.VALIDATION_FAILED',
      });
      const person = await db.query('SELECT given_name FROM roster_people WHERE id = $1', [id]);
      expect(person.rows[0].given_name).toBe('Zoë');
    });

    it('clearing a local edit that does not exist → 404 and one failed entry', async () => {
      const made = await call('admin', 'delete', `/students/${student('stu-zoe')}/local-edits/pronouns`);
      expect(made.response.status).toBe(404);
      expect(await onlyEntry(made)).toMatchObject({
        action: 'student.local_edit.clear',
        outcome: 'failed',
        reason: 'ROSTER.NO_LOCAL_EDIT',
      });
    });

    it('an unknown class roster → 404 and one failed entry', async () => {
      const made = await call('admin', 'get', `/classes/${UNKNOWN_ID}/roster`);
      expect(made.response.status).toBe(404);
      expect(await onlyEntry(made)).toMatchObject({
        action: 'class_roster.read',
        resource: { type: 'class', id: UNKNOWN_ID },
        outcome: 'failed',
        reason: 'ROSTER.CLASS_NOT_FOUND',
      });
    });
  });

  describe('sync runs', () => {
    let connectionId: string;
    let runId: string;

    beforeAll(async () => {
      const created = await request(url)
        .post('/api/v1/sis/connections')
        .set(bearer(tokens.admin))
        .send({
          name: 'Unreachable SIS',
          provider: 'oneroster',
          version: '1.2',
          vendor: 'generic',
          requestTimeoutMs: 1000,
          baseUrl: 'http://127.0.0.1:9/ims/oneroster/rostering/v1p2',
          auth: { type: 'oauth2', tokenUrl: 'http://127.0.0.1:9/token', clientId: 'c', clientSecret: 's' },
        });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      connectionId = created.body.id as string;
    });

    it('starting a run, reading it and streaming its issues each record one allowed entry', async () => {
      const started = await call('sisOperator', 'post', `/sis/connections/${connectionId}/sync`, {
        body: { mode: 'full', dryRun: true },
      });
      expect(started.response.status, JSON.stringify(started.response.body)).toBe(202);
      runId = started.response.body.runId as string;
      expect(await onlyEntry(started)).toMatchObject({
        action: 'roster_sync.start',
        resource: { type: 'sis_connection', id: connectionId },
        actor: actor('sisOperator'),
        studentIds: [],
        dataCategories: ['roster_sync'],
        outcome: 'allowed',
        origin: { route: 'POST /api/v1/sis/connections/:id/sync' },
      });

      const read = await call('admin', 'get', `/sis/runs/${runId}`);
      expect(read.response.status).toBe(200);
      expect(await onlyEntry(read)).toMatchObject({
        action: 'sync_run.read',
        resource: { type: 'sync_run', id: runId },
        outcome: 'allowed',
        origin: { route: 'GET /api/v1/sis/runs/:id' },
      });

      const issues = await call('admin', 'get', `/sis/runs/${runId}/issues`, { accept: 'text/csv' });
      expect(issues.response.status).toBe(200);
      expect(await onlyEntry(issues)).toMatchObject({
        action: 'sync_run_issues.read',
        resource: { type: 'sync_run', id: runId },
        outcome: 'allowed',
        origin: { route: 'GET /api/v1/sis/runs/:id/issues' },
      });
    });

    it.each<[string, 'get' | 'post', (run: string, connection: string) => string, string]>([
      ['reading a run', 'get', (run) => `/sis/runs/${run}`, 'sync_run.read'],
      ['reading its issues', 'get', (run) => `/sis/runs/${run}/issues`, 'sync_run_issues.read'],
      ['cancelling it', 'post', (run) => `/sis/runs/${run}/cancel`, 'sync_run.cancel'],
      ['approving it', 'post', (run) => `/sis/runs/${run}/approve`, 'sync_run.approve'],
      ['starting a run', 'post', (_run, connection) => `/sis/connections/${connection}/sync`, 'roster_sync.start'],
    ])('a teacher %s → 403 and one denied entry', async (_label, method, path, action) => {
      const made = await call('rivera', method, path(runId, connectionId), method === 'post' ? { body: {} } : {});
      expect(made.response.status).toBe(403);
      expect(await onlyEntry(made)).toMatchObject({
        action,
        actor: actor('rivera'),
        outcome: 'denied',
        reason: 'IDENTITY.FORBIDDEN',
        studentIds: [],
      });
    });

    it('steering a run that cannot be steered → one failed entry', async () => {
      const made = await call('admin', 'get', `/sis/runs/${UNKNOWN_ID}`);
      expect(made.response.status).toBe(404);
      expect(await onlyEntry(made)).toMatchObject({ action: 'sync_run.read', outcome: 'failed' });
      const malformed = await call('admin', 'post', '/sis/runs/not-a-uuid/approve', { body: {} });
      expect(malformed.response.status).toBe(400);
      expect(await onlyEntry(malformed)).toMatchObject({ action: 'sync_run.approve', outcome: 'failed' });
    });
  });

  describe('routes without student data', () => {
    it.each<[Caller, string]>([
      ['admin', '/schools'],
      ['admin', '/auth/me'],
      ['rivera', '/classes'],
      ['admin', '/staff'],
      ['rivera', '/staff'],
      ['admin', '/users'],
      ['admin', '/sis/runs'],
    ])('%s GET %s → no entry', async (caller, path) => {
      const made = await call(caller, 'get', path);
      expect(made.response.status).toBe(200);
      expect(await entriesOf(made.requestId)).toEqual([]);
    });

    it('an unknown path or a refused call to an exempt route → no entry', async () => {
      const unknown = await call('admin', 'get', '/nothing-here');
      expect(unknown.response.status).toBe(404);
      expect(await entriesOf(unknown.requestId)).toEqual([]);
      const refused = await call(null, 'get', '/schools');
      expect(refused.response.status).toBe(401);
      expect(await entriesOf(refused.requestId)).toEqual([]);
    });
  });

  describe('the stored trail', () => {
    it('chains every entry stored above, each hash recomputable from its text', async () => {
      const { rows } = await db.query<{
        seq: string;
        entry: string;
        entry_hash: Buffer;
        prev_hash: Buffer;
        hash: Buffer;
      }>(
        `SELECT e.seq::text AS seq, p.entry, e.entry_hash, e.prev_hash, e.hash
           FROM audit_events e JOIN audit_event_payloads p USING (seq) ORDER BY e.seq`,
      );
      expect(rows.length).toBeGreaterThan(30);
      let prev = GENESIS_HASH;
      rows.forEach((row, index) => {
        expect(row.seq).toBe(String(index + 1));
        expect(entryHash(row.entry).equals(row.entry_hash), `entry hash of ${row.seq}`).toBe(true);
        expect(row.prev_hash.equals(prev), `prev hash of ${row.seq}`).toBe(true);
        expect(chainHash(prev, BigInt(row.seq), row.entry_hash).equals(row.hash), `hash of ${row.seq}`).toBe(true);
        prev = row.hash;
      });
      const names = ['José', 'Núñez', 'López', 'Ødegaard', 'Rivera', 'Joe'];
      for (const row of rows) for (const name of names) expect(row.entry).not.toContain(name);
    });

    it('exposes audit_events_total by action and outcome, matching the trail, and the append latency', async () => {
      const metrics = await request(testApp.metricsUrl).get('/metrics').expect(200);
      const { rows } = await db.query<{ action: string; outcome: string; count: string }>(
        `SELECT action, outcome, count(*)::text AS count FROM audit_event_payloads
          WHERE action IN ('student.list', 'student.read', 'student.update', 'student.local_edit.clear',
                           'class_roster.read')
          GROUP BY action, outcome`,
      );
      expect(rows.length).toBeGreaterThanOrEqual(8);
      for (const row of rows) {
        expect(metrics.text).toContain(
          `audit_events_total{action="${row.action}",outcome="${row.outcome}"} ${row.count}\n`,
        );
      }
      const count = /^audit_append_duration_seconds_count (\d+)$/m.exec(metrics.text);
      const sum = /^audit_append_duration_seconds_sum ([0-9.e+-]+)$/m.exec(metrics.text);
      expect(Number(count?.[1])).toBeGreaterThan(0);
      expect(Number(sum?.[1])).toBeGreaterThan(0);
      expect(metrics.text).toMatch(/^audit_append_duration_seconds_bucket\{le="\+Inf"\} \d+$/m);
      for (const sourcedId of ['stu-jose', 'stu-sam', 'stu-ana', 'stu-zoe']) {
        expect(metrics.text).not.toContain(student(sourcedId));
      }
      for (const line of metrics.text.split('\n').filter((text) => text.startsWith('audit_'))) {
        expect(line).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
      }
    });
  });
});
