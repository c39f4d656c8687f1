import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOLVE_SCHOOL_SCOPES_SQL } from '../../src/migrations/Migration20261207080000_school_scope_local_ids.js';
import { seedRoster, type SeededRoster } from '../roster/seed-roster.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';

const PASSWORD = 'a-long-enough-password';

describe('user administration', () => {
  let testApp: TestApp;
  let url: string;
  let admin: string;
  const tokens: Record<string, string> = {};
  let schools: SeededRoster;
  let otherSchools: SeededRoster;

  beforeAll(async () => {
    testApp = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    url = testApp.url;
    admin = (await login(url)).accessToken;
    schools = await seedRoster(testApp.databaseUrl, {
      orgs: [
        { sourcedId: 's-1', name: 'School One' },
        { sourcedId: 's-2', name: 'School Two' },
        { sourcedId: 'dist-1', name: 'The District', type: 'district' },
      ],
    });
    // Another SIS connection reusing the sourcedId s-2.
    otherSchools = await seedRoster(testApp.databaseUrl, { orgs: [{ sourcedId: 's-2', name: 'Other Two' }] });
    for (const role of ['teacher', 'sis_operator', 'compliance_officer', 'school_admin']) {
      const email = `${role.replace('_', '-')}@district.test`;
      await request(url)
        .post('/api/v1/users')
        .set(bearer(admin))
        .send({ email, displayName: role, password: PASSWORD, roles: [role] })
        .expect(201);
      tokens[role] = (await login(url, email, PASSWORD)).accessToken;
    }
  });
  afterAll(async () => {
    await testApp.close();
  });

  const routes: [string, string, Record<string, unknown> | undefined][] = [
    ['post', '/api/v1/users', { email: 'x@district.test', displayName: 'X', password: PASSWORD }],
    ['get', '/api/v1/users', undefined],
    ['get', '/api/v1/users/00000000-0000-4000-8000-000000000000', undefined],
    ['patch', '/api/v1/users/00000000-0000-4000-8000-000000000000', { displayName: 'Y' }],
  ];

  describe.each(['teacher', 'sis_operator', 'compliance_officer', 'school_admin'])('as %s', (role) => {
    it.each(routes)('%s %s → 403', async (method, path, body) => {
      const call = request(url)[method as 'get'](path).set(bearer(tokens[role]));
      const response = body ? await call.send(body) : await call;
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('IDENTITY.FORBIDDEN');
    });
  });

  it.each(routes)('unauthenticated %s %s → 401', async (method, path, body) => {
    const call = request(url)[method as 'get'](path);
    const response = body ? await call.send(body) : await call;
    expect(response.status).toBe(401);
  });

  it('lets a district admin create, list, read and update users', async () => {
    const created = await request(url)
      .post('/api/v1/users')
      .set(bearer(admin))
      .send({ email: 'New.Teacher@District.test', displayName: 'New Teacher', password: PASSWORD, schoolIds: ['s-1'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      email: 'new.teacher@district.test',
      roles: ['teacher'],
      schoolIds: [schools.id('orgs', 's-1')],
    });
    expect(JSON.stringify(created.body)).not.toMatch(/password|hash|tokenVersion/i);

    const page = await request(url).get('/api/v1/users?limit=2').set(bearer(admin));
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(2);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const seen = new Set<string>(page.body.items.map((user: { email: string }) => user.email));
    let cursor: string | null = page.body.nextCursor as string;
    while (cursor) {
      const next = await request(url).get(`/api/v1/users?limit=2&cursor=${cursor}`).set(bearer(admin));
      for (const user of next.body.items as { email: string }[]) seen.add(user.email);
      cursor = next.body.nextCursor as string | null;
    }
    expect(seen.size).toBe(6);

    const read = await request(url).get(`/api/v1/users/${created.body.id}`).set(bearer(admin));
    expect(read.body.displayName).toBe('New Teacher');
    const updated = await request(url)
      .patch(`/api/v1/users/${created.body.id}`)
      .set(bearer(admin))
      .send({ displayName: 'Ms. New', schoolIds: [schools.id('orgs', 's-1'), `${schools.connectionId}:s-2`] });
    expect(updated.body).toMatchObject({ displayName: 'Ms. New' });
    expect([...updated.body.schoolIds].sort()).toEqual([schools.id('orgs', 's-1'), schools.id('orgs', 's-2')].sort());
  });

  describe('school scope', () => {
    const create = (email: string, schoolIds: string[]) =>
      request(url)
        .post('/api/v1/users')
        .set(bearer(admin))
        .send({ email, displayName: 'Scoped', password: PASSWORD, roles: ['school_admin'], schoolIds });

    it('resolves a sourcedId that names one school, a local id, and connection:sourcedId to local ids', async () => {
      const response = await create('scoped.one@district.test', [
        's-1',
        otherSchools.id('orgs', 's-2'),
        `${schools.connectionId}:s-2`,
      ]);
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      expect([...response.body.schoolIds].sort()).toEqual(
        [schools.id('orgs', 's-1'), otherSchools.id('orgs', 's-2'), schools.id('orgs', 's-2')].sort(),
      );
    });

    it('refuses a sourcedId that names schools of two connections, on create and on update', async () => {
      const created = await create('scoped.ambiguous@district.test', ['s-2']);
      expect(created.status).toBe(422);
      expect(created.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(created.body.code).toBe('IDENTITY.SCHOOL_SCOPE_AMBIGUOUS');

      const user = await create('scoped.two@district.test', ['s-1']);
      expect(user.status).toBe(201);
      const updated = await request(url)
        .patch(`/api/v1/users/${user.body.id}`)
        .set(bearer(admin))
        .send({ schoolIds: ['s-1', 's-2'] });
      expect(updated.status).toBe(422);
      expect(updated.body.code).toBe('IDENTITY.SCHOOL_SCOPE_AMBIGUOUS');
      const unchanged = await request(url).get(`/api/v1/users/${user.body.id}`).set(bearer(admin));
      expect(unchanged.body.schoolIds).toEqual([schools.id('orgs', 's-1')]);
    });

    it('migrates stored sourcedIds to local ids, leaving ambiguous and unknown ones granting nothing', async () => {
      const user = await create('scoped.legacy@district.test', []);
      expect(user.status).toBe(201);
      const client = new pg.Client({ connectionString: testApp.databaseUrl });
      await client.connect();
      try {
        const legacy = ['s-1', schools.id('orgs', 's-1').toUpperCase(), 's-2', 'no-such-school', 'dist-1'];
        await client.query('UPDATE users SET school_ids = $2::jsonb WHERE id = $1', [
          user.body.id,
          JSON.stringify(legacy),
        ]);
        await client.query(RESOLVE_SCHOOL_SCOPES_SQL);
        await client.query(RESOLVE_SCHOOL_SCOPES_SQL);
      } finally {
        await client.end();
      }
      const read = await request(url).get(`/api/v1/users/${user.body.id}`).set(bearer(admin));
      expect(read.body.schoolIds).toEqual([schools.id('orgs', 's-1'), 's-2', 'no-such-school', 'dist-1']);
    });

    it.each([
      ['an unknown sourcedId', () => 'no-such-school'],
      ['an unknown local id', () => '00000000-0000-4000-8000-000000000000'],
      ['a district, not a school', () => 'dist-1'],
      ['a school of another connection', () => `${otherSchools.connectionId}:s-1`],
    ])('refuses %s with IDENTITY.SCHOOL_SCOPE_UNKNOWN', async (_label, key) => {
      const response = await create(`scoped.${Math.random().toString(36).slice(2)}@district.test`, [key()]);
      expect(response.status).toBe(422);
      expect(response.body.code).toBe('IDENTITY.SCHOOL_SCOPE_UNKNOWN');
    });
  });

  it('a password reset ends every session of that user: old refresh and access tokens stop working', async () => {
    const created = await request(url)
      .post('/api/v1/users')
      .set(bearer(admin))
      .send({ email: 'forgetful@district.test', displayName: 'Forgetful', password: PASSWORD });
    expect(created.status).toBe(201);
    const laptop = await login(url, 'forgetful@district.test', PASSWORD);
    const phone = await login(url, 'forgetful@district.test', PASSWORD);
    const reset = await request(url)
      .patch(`/api/v1/users/${created.body.id}`)
      .set(bearer(admin))
      .send({ password: 'a-brand-new-passphrase' });
    expect(reset.status).toBe(200);
    for (const old of [laptop, phone]) {
      const refreshed = await request(url).post('/api/v1/auth/refresh').send({ refreshToken: old.refreshToken });
      expect(refreshed.status).toBe(401);
      expect(refreshed.body.code).toBe('IDENTITY.REFRESH_TOKEN_INVALID');
      expect((await request(url).get('/api/v1/auth/me').set(bearer(old.accessToken))).status).toBe(401);
    }
    const fresh = await login(url, 'forgetful@district.test', 'a-brand-new-passphrase');
    expect((await request(url).get('/api/v1/auth/me').set(bearer(fresh.accessToken))).status).toBe(200);
  });

  it('refuses a duplicate email with 409', async () => {
    const response = await request(url)
      .post('/api/v1/users')
      .set(bearer(admin))
      .send({ email: 'TEACHER@district.test', displayName: 'Dup', password: PASSWORD });
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('IDENTITY.EMAIL_TAKEN');
  });

  it('enforces the password policy', async () => {
    const short = await request(url)
      .post('/api/v1/users')
      .set(bearer(admin))
      .send({ email: 'short@district.test', displayName: 'S', password: 'elevenchars' });
    expect(short.status).toBe(400);
    expect(short.body.code).toBe('IDENTITY.WEAK_PASSWORD');
    const same = await request(url)
      .post('/api/v1/users')
      .set(bearer(admin))
      .send({ email: 'same-as-email@district.test', displayName: 'S', password: 'same-as-email@district.test' });
    expect(same.body.code).toBe('IDENTITY.WEAK_PASSWORD');
  });

  it.each([
    ['an unknown field', { email: 'a@district.test', displayName: 'A', password: PASSWORD, nickname: 'x' }],
    ['a privileged field (id)', { email: 'a@district.test', displayName: 'A', password: PASSWORD, id: 'mine' }],
    [
      'a privileged field (tokenVersion)',
      { email: 'a@district.test', displayName: 'A', password: PASSWORD, tokenVersion: 9 },
    ],
    ['a role that does not exist', { email: 'a@district.test', displayName: 'A', password: PASSWORD, roles: ['root'] }],
    ['a malformed email', { email: 'not-an-email', displayName: 'A', password: PASSWORD }],
  ])('refuses %s with a 400 problem', async (_label, body) => {
    const response = await request(url).post('/api/v1/users').set(bearer(admin)).send(body);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.body.code).toBe('REQUEST.VALIDATION_FAILED');
  });

  it('refuses privileged fields on update too, and a malformed id', async () => {
    const me = await request(url).get('/api/v1/auth/me').set(bearer(admin));
    const patch = await request(url)
      .patch(`/api/v1/users/${me.body.id}`)
      .set(bearer(admin))
      .send({ passwordHash: 'x' });
    expect(patch.status).toBe(400);
    const badId = await request(url).get('/api/v1/users/not-a-uuid').set(bearer(admin));
    expect(badId.status).toBe(400);
  });

  it('returns 404 for an unknown user', async () => {
    const response = await request(url).get('/api/v1/users/00000000-0000-4000-8000-000000000000').set(bearer(admin));
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('IDENTITY.USER_NOT_FOUND');
  });

  it('does not let an administrator lock themselves out', async () => {
    const me = await request(url).get('/api/v1/auth/me').set(bearer(admin));
    const disable = await request(url).patch(`/api/v1/users/${me.body.id}`).set(bearer(admin)).send({ disabled: true });
    expect(disable.status).toBe(409);
    expect(disable.body.code).toBe('IDENTITY.SELF_LOCKOUT');
    const demote = await request(url)
      .patch(`/api/v1/users/${me.body.id}`)
      .set(bearer(admin))
      .send({ roles: ['teacher'] });
    expect(demote.status).toBe(409);
  });
});
