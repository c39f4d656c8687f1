import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedRoster, type SeededRoster } from '../roster/seed-roster.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const PROBLEM_KEYS = ['code', 'correlationId', 'instance', 'status', 'title', 'type'];
const STUDENT_TEXT = ['José', 'Núñez', 'Zoë', 'Ødegaard', 'jose.nunez', '10042', 'Algebra'];

/**
 * The audit trail fails closed: when an access cannot be recorded, it is refused. Appends are made to fail for
 * real, with a constraint that every new payload row violates (NOT VALID leaves the rows already stored alone).
 */
describe('audit capture when the trail cannot be written', () => {
  let closed: TestApp;
  let open: TestApp;
  let db: pg.Client;
  let roster: SeededRoster;
  let closedToken: string;
  let openToken: string;
  let teacherToken: string;

  const student = (sourcedId: string) => roster.id('people', sourcedId);
  const blockAppends = () =>
    db.query('ALTER TABLE audit_event_payloads ADD CONSTRAINT audit_test_block CHECK (false) NOT VALID');
  const unblockAppends = () => db.query('ALTER TABLE audit_event_payloads DROP CONSTRAINT audit_test_block');

  async function trailSize(): Promise<{ events: number; payloads: number }> {
    const { rows } = await db.query<{ events: number; payloads: number }>(
      `SELECT (SELECT count(*)::int FROM audit_events) AS events,
              (SELECT count(*)::int FROM audit_event_payloads) AS payloads`,
    );
    return rows[0];
  }

  async function person(id: string): Promise<Record<string, unknown>> {
    const { rows } = await db.query('SELECT preferred_first_name, pronouns FROM roster_people WHERE id = $1', [id]);
    return rows[0] as Record<string, unknown>;
  }

  beforeAll(async () => {
    closed = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    open = await bootTestApp({
      role: 'api',
      databaseUrl: closed.databaseUrl,
      env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000', AUDIT_FAIL_CLOSED: 'false' },
    });
    roster = await seedRoster(closed.databaseUrl, {
      orgs: [{ sourcedId: 'sch-north', name: 'North High' }],
      classes: [{ sourcedId: 'cls-alg', title: 'Algebra', school: 'sch-north' }],
      people: [
        {
          sourcedId: 'stu-jose',
          givenName: 'José',
          familyName: 'Núñez',
          role: 'student',
          identifier: '10042',
          email: 'jose.nunez@students.district.test',
          orgs: ['sch-north'],
        },
        { sourcedId: 'stu-zoe', givenName: 'Zoë', familyName: 'Ødegaard', role: 'student', orgs: ['sch-north'] },
      ],
      enrollments: [{ class: 'cls-alg', user: 'stu-jose', role: 'student' }],
    });
    db = new pg.Client({ connectionString: closed.databaseUrl });
    await db.connect();
    closedToken = (await login(closed.url)).accessToken;
    openToken = (await login(open.url)).accessToken;
    await request(closed.url)
      .post('/api/v1/users')
      .set(bearer(closedToken))
      .send({
        email: 'teacher@district.test',
        displayName: 'T',
        password: 'a-long-enough-password',
        roles: ['teacher'],
      })
      .expect(201);
    teacherToken = (await login(closed.url, 'teacher@district.test', 'a-long-enough-password')).accessToken;
  });

  afterAll(async () => {
    await db?.query('ALTER TABLE audit_event_payloads DROP CONSTRAINT IF EXISTS audit_test_block').catch(() => {});
    await db?.end();
    await open?.close();
    await closed?.close();
  });

  describe('AUDIT_FAIL_CLOSED=true (the default)', () => {
    it('refuses reads with 503 AUDIT.UNAVAILABLE and sends none of the student data', async () => {
      await blockAppends();
      try {
        const before = await trailSize();
        for (const path of [
          `/students/${student('stu-jose')}`,
          '/students',
          '/students?search=jose',
          `/classes/${roster.id('classes', 'cls-alg')}/roster`,
        ]) {
          const response = await request(closed.url).get(`/api/v1${path}`).set(bearer(closedToken));
          expect(response.status, path).toBe(503);
          expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(response.body.code).toBe('AUDIT.UNAVAILABLE');
          expect(Object.keys(response.body as object).sort()).toEqual(PROBLEM_KEYS);
          for (const text of STUDENT_TEXT) expect(response.text, `${path} leaks ${text}`).not.toContain(text);
        }
        expect(await trailSize()).toEqual(before);
        const metrics = await request(closed.metricsUrl).get('/metrics').expect(200);
        expect(Number(/^audit_append_failures_total (\d+)$/m.exec(metrics.text)?.[1])).toBeGreaterThanOrEqual(3);
      } finally {
        await unblockAppends();
      }
    });

    it('refuses a streamed read before the handler writes anything', async () => {
      await blockAppends();
      try {
        const response = await request(closed.url).get('/api/v1/audit/export?format=csv').set(bearer(closedToken));
        // A problem document, not a half-written CSV: the entry is stored before the first byte goes out.
        expect(response.status).toBe(503);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.body.code).toBe('AUDIT.UNAVAILABLE');
        // An unknown run is still an ordinary 404 (its input is checked before the entry is stored).
        const unknown = await request(closed.url)
          .get(`/api/v1/sis/runs/${UNKNOWN_ID}/issues`)
          .set(bearer(closedToken))
          .set('Accept', 'text/csv');
        expect(unknown.status).toBe(404);
      } finally {
        await unblockAppends();
      }
    });

    it('rolls back a PATCH whose entry cannot be stored', async () => {
      const id = student('stu-jose');
      const unchanged = await person(id);
      await blockAppends();
      try {
        const before = await trailSize();
        const response = await request(closed.url)
          .patch(`/api/v1/students/${id}`)
          .set(bearer(closedToken))
          .send({ preferredFirstName: 'Joe', pronouns: 'he/him' });
        expect(response.status).toBe(503);
        expect(response.body.code).toBe('AUDIT.UNAVAILABLE');
        expect(await person(id)).toEqual(unchanged);
        const history = await db.query('SELECT count(*)::int AS count FROM roster_local_edits WHERE person_id = $1', [
          id,
        ]);
        expect(history.rows[0].count).toBe(0);
        expect(await trailSize()).toEqual(before);
      } finally {
        await unblockAppends();
      }
    });

    it('still refuses a denied call with its own status, recording nothing', async () => {
      await blockAppends();
      try {
        const before = await trailSize();
        const response = await request(closed.url)
          .get(`/api/v1/students/${student('stu-zoe')}`)
          .set(bearer(teacherToken));
        expect(response.status).toBe(403);
        expect(response.body.code).toBe('ROSTER.ACCESS_DENIED');
        expect(response.text).not.toContain('Zoë');
        expect(await trailSize()).toEqual(before);
      } finally {
        await unblockAppends();
      }
    });

    it('leaves routes without student data working', async () => {
      await blockAppends();
      try {
        await request(closed.url).get('/api/v1/schools').set(bearer(closedToken)).expect(200);
        await request(closed.url).get('/api/v1/auth/me').set(bearer(closedToken)).expect(200);
      } finally {
        await unblockAppends();
      }
    });

    it('works again, entry and change together, once the trail accepts appends', async () => {
      const id = student('stu-jose');
      const before = await trailSize();
      const read = await request(closed.url).get(`/api/v1/students/${id}`).set(bearer(closedToken));
      expect(read.status).toBe(200);
      expect(read.body.givenName).toBe('José');
      const edit = await request(closed.url)
        .patch(`/api/v1/students/${id}`)
        .set(bearer(closedToken))
        .send({ preferredFirstName: 'Joe' });
      expect(edit.status).toBe(200);
      expect((await person(id))['preferred_first_name']).toBe('Joe');
      expect(await trailSize()).toEqual({ events: before.events + 2, payloads: before.payloads + 2 });
    });
  });

  describe('AUDIT_FAIL_CLOSED=false', () => {
    it('serves the read while the append fails, and stores nothing half-way', async () => {
      await blockAppends();
      try {
        const before = await trailSize();
        const response = await request(open.url)
          .get(`/api/v1/students/${student('stu-zoe')}`)
          .set(bearer(openToken));
        expect(response.status).toBe(200);
        expect(response.body.givenName).toBe('Zoë');
        expect(await trailSize()).toEqual(before);
      } finally {
        await unblockAppends();
      }
    });

    it('commits a PATCH while its entry cannot be stored (the failed append does not poison the transaction)', async () => {
      const id = student('stu-zoe');
      await blockAppends();
      try {
        const before = await trailSize();
        const response = await request(open.url)
          .patch(`/api/v1/students/${id}`)
          .set(bearer(openToken))
          .send({ pronouns: 'she/her' });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        expect((await person(id))['pronouns']).toBe('she/her');
        expect(await trailSize()).toEqual(before);
      } finally {
        await unblockAppends();
      }
    });

    it('records again once appends work', async () => {
      const before = await trailSize();
      await request(open.url)
        .get(`/api/v1/students/${student('stu-zoe')}`)
        .set(bearer(openToken))
        .expect(200);
      expect((await trailSize()).payloads).toBe(before.payloads + 1);
    });
  });
});
