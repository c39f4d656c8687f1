import pg from 'pg';
import { randomUUID } from 'node:crypto';
import request, { type Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';

const PASSWORD = 'a-long-enough-password';
const CLIENT_SECRET = 'oauth2-client-secret-XYZ-0123456789';
const NEW_CLIENT_SECRET = 'rotated-client-secret-ABC-9876543210';
const CONSUMER_SECRET = 'oauth1-consumer-secret-QRS-55555';
const SECRETS = [CLIENT_SECRET, NEW_CLIENT_SECRET, CONSUMER_SECRET];
const BASE = '/api/v1/sis/connections';
const NO_SUCH_ID = '00000000-0000-4000-8000-000000000000';

function generic(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    provider: 'oneroster',
    version: '1.2',
    baseUrl: 'https://sis.district.test/ims/oneroster/rostering/v1p2',
    auth: {
      type: 'oauth2',
      tokenUrl: 'https://sis.district.test/oauth2/token',
      clientId: 'homeroom',
      clientSecret: CLIENT_SECRET,
    },
    ...overrides,
  };
}

describe('SIS connections', () => {
  let testApp: TestApp;
  let url: string;
  let db: pg.Client;
  const tokens: Record<string, string> = {};
  /** Every response this suite saw: none may contain a secret. */
  const seen: { status: number; text: string }[] = [];

  async function call(
    role: string,
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    body?: unknown,
  ): Promise<Response> {
    const pending = request(url)[method](path).set(bearer(tokens[role]));
    const response = body === undefined ? await pending : await pending.send(body as object);
    seen.push({ status: response.status, text: response.text ?? '' });
    return response;
  }

  beforeAll(async () => {
    testApp = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    url = testApp.url;
    tokens['district_admin'] = (await login(url)).accessToken;
    for (const role of ['sis_operator', 'teacher', 'compliance_officer']) {
      const email = `${role.replace('_', '-')}@district.test`;
      await request(url)
        .post('/api/v1/users')
        .set(bearer(tokens['district_admin']))
        .send({ email, displayName: role, password: PASSWORD, roles: [role] })
        .expect(201);
      tokens[role] = (await login(url, email, PASSWORD)).accessToken;
    }
    db = new pg.Client({ connectionString: testApp.databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await testApp?.close();
  });

  const routes: [string, string, Record<string, unknown> | undefined][] = [
    ['post', BASE, generic('Forbidden')],
    ['get', BASE, undefined],
    ['get', `${BASE}/${NO_SUCH_ID}`, undefined],
    ['patch', `${BASE}/${NO_SUCH_ID}`, { pageSize: 10 }],
    ['delete', `${BASE}/${NO_SUCH_ID}`, undefined],
  ];

  describe.each(['teacher', 'compliance_officer'])('as %s', (role) => {
    it.each(routes)('%s %s → 403', async (method, path, body) => {
      const response = await call(role, method as 'get', path, body);
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('IDENTITY.FORBIDDEN');
    });
  });

  it.each(routes)('unauthenticated %s %s → 401', async (method, path, body) => {
    const pending = request(url)[method as 'get'](path);
    const response = body ? await pending.send(body) : await pending;
    expect(response.status).toBe(401);
  });

  it('lets a district admin create a connection with the vendor defaults, and never returns the secret', async () => {
    const response = await call('district_admin', 'post', BASE, generic('District OneRoster'));
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      id: expect.any(String),
      name: 'District OneRoster',
      provider: 'oneroster',
      enabled: true,
      version: '1.2',
      vendor: 'generic',
      baseUrl: 'https://sis.district.test/ims/oneroster/rostering/v1p2',
      auth: { type: 'oauth2', tokenUrl: 'https://sis.district.test/oauth2/token', clientId: 'homeroom' },
      hasSecret: true,
      pageSize: 1000,
      concurrency: 2,
      peakHours: null,
      requestTimeoutMs: 30_000,
      schedule: null,
      blackoutWindows: [],
      schoolScope: [],
      thresholds: {
        '*': { deactivate: { maxPercent: 10 }, update: { maxPercent: 50 }, reject: { maxPercent: 10 } },
      },
      deltaOverlapSeconds: 300,
      fullReconciliationDays: 7,
      personMergeRule: 'none',
      fieldPolicies: {
        preferredFirstName: 'sticky',
        preferredLastName: 'sticky',
        pronouns: 'sticky',
        phone: 'sticky',
        sms: 'sticky',
      },
      extensionMappings: {},
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('lets a SIS operator create an Infinite Campus connection with its peak-hour limits', async () => {
    const response = await call(
      'sis_operator',
      'post',
      BASE,
      generic('Infinite Campus', {
        vendor: 'infinite-campus',
        version: '1.1',
        baseUrl: 'http://campus.district.test/campus/api/ims/oneroster/rostering/v1p1',
        schedule: { cron: '30 1 * * *', timeZone: 'America/Chicago' },
        blackoutWindows: [{ from: '2027-06-10', to: '2027-08-15', reason: 'Rollover' }],
        schoolScope: ['school-1', 'school-2'],
        thresholds: { enrollments: { deactivate: { maxPercent: 5, maxCount: 200 }, reject: { maxCount: 3 } } },
      }),
    );
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      vendor: 'infinite-campus',
      concurrency: 5,
      peakHours: { start: '07:00', end: '16:00', concurrency: 1, timeZone: 'America/Chicago' },
      personMergeRule: 'ic-role-prefix',
      schedule: { cron: '30 1 * * *', timeZone: 'America/Chicago' },
      blackoutWindows: [{ from: '2027-06-10', to: '2027-08-15', reason: 'Rollover' }],
      schoolScope: ['school-1', 'school-2'],
      thresholds: {
        enrollments: { deactivate: { maxPercent: 5, maxCount: 200 }, reject: { maxCount: 3 } },
        '*': { deactivate: { maxPercent: 10 }, update: { maxPercent: 50 }, reject: { maxPercent: 10 } },
      },
      hasSecret: true,
    });
  });

  it('lists and reads connections', async () => {
    const list = await call('sis_operator', 'get', BASE);
    expect(list.status).toBe(200);
    expect(list.body.items.map((item: { name: string }) => item.name)).toEqual([
      'District OneRoster',
      'Infinite Campus',
    ]);
    const id = list.body.items[0].id as string;
    const read = await call('district_admin', 'get', `${BASE}/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(list.body.items[0]);
  });

  it('stores the secret encrypted: the database row holds neither the secret nor anything that reveals it', async () => {
    const { rows } = await db.query<{ name: string; settings: unknown; secret_ciphertext: string }>(
      'SELECT name, settings, secret_ciphertext FROM sis_connections ORDER BY name',
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.secret_ciphertext).toMatch(/^hrs1\./);
      expect(row.secret_ciphertext).not.toContain(CLIENT_SECRET);
      expect(Buffer.from(row.secret_ciphertext.split('.')[3], 'base64url').toString('latin1')).not.toContain(
        CLIENT_SECRET,
      );
      expect(JSON.stringify(row.settings)).not.toContain(CLIENT_SECRET);
    }
    expect(rows[0].secret_ciphertext).not.toBe(rows[1].secret_ciphertext);
  });

  it('updates a connection, keeping the secret unless a new one is given', async () => {
    const created = await call('district_admin', 'post', BASE, generic('Patch me'));
    const id = created.body.id as string;
    const stored = async () =>
      (
        await db.query<{ secret_ciphertext: string }>('SELECT secret_ciphertext FROM sis_connections WHERE id = $1', [
          id,
        ])
      ).rows[0].secret_ciphertext;
    const before = await stored();

    const patched = await call('sis_operator', 'patch', `${BASE}/${id}`, {
      name: 'Patched',
      pageSize: 250,
      schedule: { cron: '@daily', timeZone: 'US/Eastern' },
      auth: { type: 'oauth2', tokenUrl: 'https://sis.district.test/oauth2/token', clientId: 'renamed' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Patched',
      pageSize: 250,
      schedule: { cron: '@daily', timeZone: 'America/New_York' },
      auth: { clientId: 'renamed' },
      hasSecret: true,
    });
    expect(await stored()).toBe(before);

    const rotated = await call('district_admin', 'patch', `${BASE}/${id}`, {
      auth: {
        type: 'oauth2',
        tokenUrl: 'https://sis.district.test/oauth2/token',
        clientId: 'renamed',
        clientSecret: NEW_CLIENT_SECRET,
      },
      enabled: false,
      schedule: null,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ hasSecret: true, enabled: false, schedule: null, pageSize: 250 });
    const after = await stored();
    expect(after).not.toBe(before);
    expect(after).not.toContain(NEW_CLIENT_SECRET);

    const switched = await call('district_admin', 'patch', `${BASE}/${id}`, {
      version: '1.1',
      auth: { type: 'oauth1', consumerKey: 'key' },
    });
    expect(switched.status).toBe(422);
    expect(switched.body).toMatchObject({
      code: 'SIS_SYNC.INVALID_CONNECTION_SETTINGS',
      field: 'auth.consumerSecret',
    });
  });

  it('accepts OAuth 1.0a with OneRoster 1.1 and refuses it with 1.2', async () => {
    const oauth1 = { type: 'oauth1', consumerKey: 'consumer', consumerSecret: CONSUMER_SECRET };
    const ok = await call(
      'district_admin',
      'post',
      BASE,
      generic('Skyward legacy', { version: '1.1', vendor: 'skyward', auth: oauth1 }),
    );
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({
      auth: { type: 'oauth1', consumerKey: 'consumer' },
      hasSecret: true,
      personMergeRule: 'identifier',
    });

    const refused = await call('district_admin', 'post', BASE, generic('OAuth1 on 1.2', { auth: oauth1 }));
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ code: 'SIS_SYNC.INVALID_CONNECTION_SETTINGS', field: 'auth.type' });
  });

  it('refuses a duplicate name, whatever its case, on create and on rename', async () => {
    const duplicate = await call('district_admin', 'post', BASE, generic('  district   ONEROSTER '));
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe('SIS_SYNC.CONNECTION_NAME_TAKEN');

    const other = await call('district_admin', 'post', BASE, generic('Rename me'));
    const rename = await call('district_admin', 'patch', `${BASE}/${other.body.id}`, { name: 'Infinite campus' });
    expect(rename.status).toBe(409);
    expect(rename.body.code).toBe('SIS_SYNC.CONNECTION_NAME_TAKEN');

    const reserved = await call('district_admin', 'post', BASE, generic('OneRoster CSV uploads'));
    expect(reserved.status).toBe(409);
  });

  it('creates a oneroster-csv connection (name, version, school scope, thresholds, field policies) and refuses an endpoint, credentials or a schedule with 422', async () => {
    const feed = {
      name: 'Charter school CSV feed',
      provider: 'oneroster-csv',
      version: '1.2',
      schoolScope: ['charter-school-1'],
      thresholds: { people: { deactivate: { maxCount: 3 } } },
      fieldPolicies: { phone: 'local' },
    };
    const created = await call('district_admin', 'post', BASE, feed);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Charter school CSV feed',
      provider: 'oneroster-csv',
      version: '1.2',
      baseUrl: null,
      schedule: null,
      schoolScope: ['charter-school-1'],
      fieldPolicies: { phone: 'local' },
    });
    expect(created.body.thresholds.people).toEqual({ deactivate: { maxCount: 3 } });
    expect((await call('district_admin', 'get', `${BASE}/${created.body.id}`)).body.provider).toBe('oneroster-csv');

    const withEndpoint = await call('district_admin', 'post', BASE, {
      ...generic('CSV with an endpoint'),
      provider: 'oneroster-csv',
      schedule: { cron: '@daily', timeZone: 'America/Chicago' },
    });
    expect(withEndpoint.status, JSON.stringify(withEndpoint.body)).toBe(422);
    expect(withEndpoint.body).toMatchObject({ code: 'SIS_SYNC.INVALID_CONNECTION_SETTINGS', field: 'baseUrl' });
    expect(withEndpoint.body.errors.map((error: { field: string }) => error.field)).toEqual([
      'baseUrl',
      'auth.type',
      'schedule',
    ]);
    expect(withEndpoint.body.title).toContain('POST /api/v1/sis/imports');

    const reserved = await call('district_admin', 'post', BASE, { ...feed, name: 'OneRoster CSV uploads' });
    expect(reserved.status).toBe(409);
    const unknown = await call('district_admin', 'post', BASE, generic('Provider clever', { provider: 'clever' }));
    expect(unknown.status).toBe(400);
  });

  it('creates a PowerSchool connection: token URL from the server, optional PowerQuery, no OneRoster settings', async () => {
    const powerSchool = (name: string, overrides: Record<string, unknown> = {}) => ({
      name,
      provider: 'powerschool',
      baseUrl: 'https://ps.district.test/',
      auth: { type: 'oauth2', clientId: 'plugin-client-id', clientSecret: CLIENT_SECRET },
      ...overrides,
    });
    const created = await call('district_admin', 'post', BASE, powerSchool('PowerSchool district'));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      provider: 'powerschool',
      version: null,
      vendor: 'generic',
      baseUrl: 'https://ps.district.test',
      auth: { type: 'oauth2', clientId: 'plugin-client-id', tokenUrl: 'https://ps.district.test/oauth/access_token' },
      hasSecret: true,
      pageSize: 1000,
      enrollmentPowerQuery: null,
    });

    const withQuery = await call(
      'district_admin',
      'post',
      BASE,
      powerSchool('PowerSchool with PowerQuery', {
        enrollmentPowerQuery: 'com.district.sync.enrollments',
        pageSize: 500,
      }),
    );
    expect(withQuery.status).toBe(201);
    expect(withQuery.body).toMatchObject({ enrollmentPowerQuery: 'com.district.sync.enrollments', pageSize: 500 });

    const withVersion = await call('district_admin', 'post', BASE, powerSchool('PS version', { version: '1.2' }));
    expect(withVersion.status).toBe(422);
    expect(withVersion.body).toMatchObject({ code: 'SIS_SYNC.INVALID_CONNECTION_SETTINGS', field: 'version' });
    const noAuth = await call('district_admin', 'post', BASE, powerSchool('PS no auth', { auth: undefined }));
    expect(noAuth.status).toBe(400);
    expect(noAuth.body.errors.map((error: { field: string }) => error.field)).toContain('auth');
    const onOneRoster = await call(
      'district_admin',
      'post',
      BASE,
      generic('OneRoster with PowerQuery', { enrollmentPowerQuery: 'com.x' }),
    );
    expect(onOneRoster.status).toBe(422);
    expect(onOneRoster.body).toMatchObject({ field: 'enrollmentPowerQuery' });
  });

  it.each([
    ['a bad cron expression', { schedule: { cron: '61 * * * *', timeZone: 'UTC' } }, 'schedule.cron'],
    ['an unknown time zone', { schedule: { cron: '0 2 * * *', timeZone: 'Mars/Olympus_Mons' } }, 'schedule.timeZone'],
    ['a base URL that is not a URL', { baseUrl: 'sis.district.test/oneroster' }, 'baseUrl'],
    [
      'a token URL with credentials',
      { auth: { type: 'oauth2', tokenUrl: 'https://u:p@sis.test/token', clientId: 'c', clientSecret: 'x' } },
      'auth.tokenUrl',
    ],
    [
      'blackout dates in the wrong order',
      { blackoutWindows: [{ from: '2027-08-15', to: '2027-06-10' }] },
      'blackoutWindows.0.to',
    ],
    [
      'peak concurrency above concurrency',
      { concurrency: 1, peakHours: { start: '07:00', end: '16:00', concurrency: 2, timeZone: 'UTC' } },
      'peakHours.concurrency',
    ],
    ['ic-role-prefix with OneRoster 1.2', { personMergeRule: 'ic-role-prefix' }, 'personMergeRule'],
  ])('refuses %s with 422 naming the field', async (_label, overrides, field) => {
    const response = await call('district_admin', 'post', BASE, generic(`Invalid ${field}`, overrides));
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ code: 'SIS_SYNC.INVALID_CONNECTION_SETTINGS', field });
    expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it.each([
    ['an unknown field', { secretSauce: true }, 'secretSauce'],
    [
      'an unknown auth field',
      { auth: { type: 'oauth2', tokenUrl: 'https://t.test', clientId: 'c', clientSecret: 's', password: 'p' } },
      'auth.password',
    ],
    ['an unknown auth type', { auth: { type: 'basic', username: 'u' } }, 'auth.type'],
    [
      'a threshold above 100 %',
      { thresholds: { '*': { deactivate: { maxPercent: 150 } } } },
      'thresholds.*.deactivate.maxPercent',
    ],
    [
      'a rejected-records threshold above 100 %',
      { thresholds: { people: { reject: { maxPercent: 101 } } } },
      'thresholds.people.reject.maxPercent',
    ],
    [
      'a threshold for an unknown entity',
      { thresholds: { students: { deactivate: { maxPercent: 5 } } } },
      'thresholds.students',
    ],
    [
      'a threshold for an unknown action',
      { thresholds: { people: { delete: { maxCount: 5 } } } },
      'thresholds.people.delete',
    ],
    ['a page size above 10000', { pageSize: 10_001 }, 'pageSize'],
    ['a request timeout below 1 s', { requestTimeoutMs: 999 }, 'requestTimeoutMs'],
    ['an unknown vendor', { vendor: 'clever' }, 'vendor'],
    ['an unknown version', { version: '1.0' }, 'version'],
    ['a missing base URL', { baseUrl: undefined }, 'baseUrl'],
  ])('refuses %s with 400 naming the field', async (_label, overrides, field) => {
    const response = await call('district_admin', 'post', BASE, generic(`Bad request ${field}`, overrides));
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('REQUEST.VALIDATION_FAILED');
    expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
  });

  it('says a missing base URL is required for the provider, in one message', async () => {
    const oneRoster = await call('district_admin', 'post', BASE, generic('No base URL', { baseUrl: undefined }));
    expect(oneRoster.status).toBe(400);
    expect(oneRoster.body.errors).toEqual([
      { field: 'baseUrl', messages: ['baseUrl is required for provider oneroster'] },
    ]);
    expect(oneRoster.body.detail).toBe('baseUrl is required for provider oneroster');
    const powerSchool = await call('district_admin', 'post', BASE, {
      name: 'No PowerSchool server',
      provider: 'powerschool',
      auth: { type: 'oauth2', clientId: 'homeroom', clientSecret: CLIENT_SECRET },
    });
    expect(powerSchool.status).toBe(400);
    expect(powerSchool.body.errors).toEqual([
      { field: 'baseUrl', messages: ['baseUrl is required for provider powerschool'] },
    ]);
  });

  it('refuses null for settings that cannot be empty, and a provider change, on update', async () => {
    const list = await call('district_admin', 'get', BASE);
    const id = list.body.items[0].id as string;
    const nulls = await call('district_admin', 'patch', `${BASE}/${id}`, { pageSize: null, auth: null });
    expect(nulls.status).toBe(400);
    expect(nulls.body.errors.map((error: { field: string }) => error.field)).toEqual(
      expect.arrayContaining(['pageSize', 'auth']),
    );
    const provider = await call('district_admin', 'patch', `${BASE}/${id}`, { provider: 'powerschool' });
    expect(provider.status).toBe(400);
    expect(provider.body.errors[0].field).toBe('provider');
  });

  it('answers 404 for an unknown connection and 400 for a malformed id', async () => {
    for (const [method, body] of [
      ['get', undefined],
      ['patch', { pageSize: 5 }],
      ['delete', undefined],
    ] as const) {
      const response = await call('district_admin', method, `${BASE}/${NO_SUCH_ID}`, body);
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('SIS_SYNC.CONNECTION_NOT_FOUND');
    }
    expect((await call('district_admin', 'get', `${BASE}/not-a-uuid`)).status).toBe(400);
  });

  it('soft-deletes a connection without an active run, and refuses while a run is active', async () => {
    const created = await call('sis_operator', 'post', BASE, generic('Short-lived'));
    const id = created.body.id as string;
    const runId = randomUUID();
    await db.query(
      `INSERT INTO sis_sync_runs (id, connection_id, mode, trigger, state, created_at, updated_at)
       VALUES ($1, $2, 'full', 'manual', 'held', now(), now())`,
      [runId, id],
    );

    const refused = await call('sis_operator', 'delete', `${BASE}/${id}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'SIS_SYNC.RUN_ALREADY_ACTIVE', connectionId: id, runId });

    await db.query("UPDATE sis_sync_runs SET state = 'succeeded' WHERE id = $1", [runId]);
    const deleted = await call('sis_operator', 'delete', `${BASE}/${id}`);
    expect(deleted.status).toBe(204);

    expect((await call('sis_operator', 'get', `${BASE}/${id}`)).status).toBe(404);
    expect((await call('sis_operator', 'delete', `${BASE}/${id}`)).status).toBe(404);
    const list = await call('sis_operator', 'get', BASE);
    expect(list.body.items.map((item: { id: string }) => item.id)).not.toContain(id);
    const { rows } = await db.query<{ enabled: boolean; deleted_at: Date | null }>(
      'SELECT enabled, deleted_at FROM sis_connections WHERE id = $1',
      [id],
    );
    expect(rows[0]).toMatchObject({ enabled: false, deleted_at: expect.any(Date) });
    expect((await db.query('SELECT 1 FROM sis_sync_runs WHERE connection_id = $1', [id])).rowCount).toBe(1);

    const reused = await call('sis_operator', 'post', BASE, generic('Short-lived'));
    expect(reused.status).toBe(201);
  });

  it('never put a secret in any response', () => {
    expect(seen.length).toBeGreaterThan(40);
    for (const { status, text } of seen) {
      for (const secret of SECRETS) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/secret_ciphertext|hrs1\./);
      // Error messages may name a secret field ("auth.clientSecret is required"); data never carries one.
      if (status < 400) expect(text).not.toMatch(/clientSecret|consumerSecret/);
    }
  });
});
