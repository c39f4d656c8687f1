import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPromise } from 'yauzl';
import {
  FakeOneRosterServer,
  generateDistrict,
  signOAuth1Request,
  uuidFromString,
  writeBrokenOneRosterCsvZip,
  writeOneRosterCsvZip,
  type FakeOneRosterServerOptions,
  type OneRosterDataset,
} from './index.js';

const smallDistrict = (): OneRosterDataset =>
  generateDistrict({ seed: 'spec', schools: 3, students: 60, teachers: 40, classes: 24 });

/** Bodies are checked field by field; typing every OneRoster shape here would only restate the fake. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Page {
  status: number;
  headers: Headers;
  body: Json;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Page> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

function links(page: Page): Record<string, string> {
  const header = page.headers.get('link') ?? '';
  return Object.fromEntries([...header.matchAll(/<([^>]+)>;\s*rel="(\w+)"/g)].map((match) => [match[2], match[1]]));
}

async function readZip(path: string): Promise<Map<string, Buffer>> {
  const zip = await openPromise(path, { lazyEntries: true, autoClose: false });
  const files = new Map<string, Buffer>();
  for await (const entry of zip.eachEntry()) {
    if (entry.fileName.endsWith('/')) {
      files.set(entry.fileName, Buffer.alloc(0));
      continue;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    files.set(entry.fileName, Buffer.concat(chunks));
  }
  zip.close();
  return files;
}

const servers: FakeOneRosterServer[] = [];
async function serve(options: Partial<FakeOneRosterServerOptions> = {}): Promise<FakeOneRosterServer> {
  const server = new FakeOneRosterServer({ dataset: smallDistrict(), ...options });
  await server.start();
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

describe('generateDistrict', () => {
  it('is deterministic, with edge-case names and exactly one primary teacher per class', () => {
    const first = smallDistrict();
    expect(JSON.stringify(smallDistrict())).toBe(JSON.stringify(first));
    expect(
      JSON.stringify(generateDistrict({ seed: 'other', schools: 3, students: 60, teachers: 40, classes: 24 })),
    ).not.toBe(JSON.stringify(first));

    const names = first.users.map((user) => `${user.givenName} ${user.familyName}`);
    expect(names).toContain('José Núñez');
    expect(names).toContain("Siobhán O'Brien");
    expect(names).toContain('Robert Smith, Jr.');
    expect(first.orgs.filter((org) => org.type === 'district')).toHaveLength(1);
    expect(first.academicSessions.map((session) => session.type)).toEqual(['schoolYear', 'term', 'term']);
    for (const schoolClass of first.classes) {
      const teachers = first.enrollments.filter(
        (enrollment) => enrollment.classSourcedId === schoolClass.sourcedId && enrollment.role === 'teacher',
      );
      expect(teachers.length).toBeGreaterThanOrEqual(1);
      expect(teachers.length).toBeLessThanOrEqual(2);
      expect(teachers.filter((enrollment) => enrollment.primary)).toHaveLength(1);
    }
    const studentIds = new Set(
      first.users.filter((user) => user.roles[0].role === 'student').map((user) => user.sourcedId),
    );
    expect(first.demographics.length).toBeGreaterThan(0);
    expect(first.demographics.map((record) => record.sourcedId).every((id) => studentIds.has(id))).toBe(true);
    expect(
      first.users.some(
        (user) =>
          user.roles.some((role) => role.role === 'teacher') && user.roles.some((role) => role.role === 'parent'),
      ),
    ).toBe(true);
  });

  it('generates the school year of its start time: by default today, so its enrollments are the current ones', () => {
    const day = 86_400_000;
    const options = { seed: 'spec', schools: 3, students: 60, teachers: 40, classes: 24 };
    const today = new Date(Math.floor(Date.now() / day) * day);
    expect(JSON.stringify(generateDistrict(options))).toBe(
      JSON.stringify(generateDistrict({ ...options, startTime: today })),
    );
    for (const date of ['2026-12-07', '2027-03-15', '2031-09-01']) {
      const district = generateDistrict({ ...options, startTime: `${date}T00:00:00.000Z` });
      const stamps = [...district.users, ...district.enrollments].map((record) => record.dateLastModified).sort();
      expect(stamps.at(-1)! <= `${date}T00:00:00.000Z`, date).toBe(true);
      const [year] = district.academicSessions.filter((session) => session.type === 'schoolYear');
      expect(year.startDate <= date && date <= year.endDate, `${date} in ${year.startDate}..${year.endDate}`).toBe(
        true,
      );
      expect(district.enrollments.length).toBeGreaterThan(0);
      const current = district.enrollments.filter(
        (enrollment) => enrollment.beginDate! <= date && date <= enrollment.endDate!,
      );
      // Fall-only or spring-only classes aside, the date's enrollments are the current ones.
      expect(current.length, date).toBeGreaterThan(district.enrollments.length / 2);
      for (const enrollment of district.enrollments) {
        expect(year.startDate <= enrollment.beginDate! && enrollment.endDate! <= year.endDate, date).toBe(true);
      }
    }
    expect(() => generateDistrict({ ...options, startTime: 'not a date' })).toThrow(RangeError);
  });

  it('generates the benchmark district (50k students, ~350k enrollments) quickly', () => {
    const started = performance.now();
    const district = generateDistrict({ seed: 7, schools: 60, students: 50_000, teachers: 3_000, classes: 6_000 });
    const elapsed = performance.now() - started;
    console.log(
      `generateDistrict 50k students: ${elapsed.toFixed(0)} ms, ${district.users.length} users, ` +
        `${district.enrollments.length} enrollments`,
    );
    expect(district.enrollments.length).toBeGreaterThan(330_000);
    expect(district.enrollments.length).toBeLessThan(370_000);
    expect(elapsed).toBeLessThan(10_000);
  });
});

describe('FakeOneRosterServer paging and shapes', () => {
  it('pages with limit/offset, X-Total-Count and Link next/last, in sourcedId order', async () => {
    const server = await serve();
    const first = await get(`${server.v12BaseUrl}/users?limit=25`);
    expect(first.status).toBe(200);
    expect(first.body.users).toHaveLength(25);
    const total = Number(first.headers.get('x-total-count'));
    expect(total).toBe(server.dataset.users.length);
    expect(links(first).next).toContain('offset=25');
    expect(links(first).last).toContain(`offset=${Math.floor((total - 1) / 25) * 25}`);

    const seen: string[] = [];
    let next: string | undefined = `${server.v12BaseUrl}/users?limit=25`;
    while (next) {
      const page = await get(next);
      seen.push(...page.body.users.map((user: { sourcedId: string }) => user.sourcedId));
      next = links(page).next;
    }
    expect(seen).toHaveLength(total);
    expect([...seen].sort()).toEqual(seen);
    expect(new Set(seen).size).toBe(total);

    const defaultPage = await get(`${server.v11BaseUrl}/enrollments`);
    expect(defaultPage.body.enrollments).toHaveLength(100);
    expect((await get(`${server.v12BaseUrl}/users?limit=-1`)).status).toBe(400);
  });

  it('speaks 1.1 (one role per user, orgs[]) and 1.2 (roles[], primaryOrg) shapes', async () => {
    const server = await serve({ icLegacySourceIdMetadata: true });
    const teacherParent = server.dataset.users.find(
      (user) => user.roles[0].role === 'teacher' && user.roles.some((role) => role.role === 'parent'),
    )!;

    const v12 = await get(`${server.v12BaseUrl}/users/${teacherParent.sourcedId}`);
    expect(v12.body.user).toMatchObject({
      sourcedId: teacherParent.sourcedId,
      status: 'active',
      enabledUser: true,
      primaryOrg: { sourcedId: teacherParent.primaryOrgSourcedId, type: 'org' },
      metadata: { ic: { legacysourceId: teacherParent.sourcedId } },
    });
    expect(v12.body.user.roles.map((role: { role: string }) => role.role)).toEqual(
      expect.arrayContaining(['teacher', 'parent']),
    );
    expect(v12.body.user.roles[0]).toMatchObject({ roleType: 'primary', role: 'teacher' });
    expect(v12.body.user.role).toBeUndefined();

    const v11 = await get(
      `${server.v11BaseUrl}/users?filter=${encodeURIComponent(`identifier='${teacherParent.identifier}'`)}`,
    );
    expect(v11.body.users.map((user: { role: string }) => user.role).sort()).toEqual(['parent', 'teacher']);
    const v11Teacher = v11.body.users.find((user: { role: string }) => user.role === 'teacher');
    expect(v11Teacher.sourcedId).toBe(teacherParent.sourcedId);
    expect(v11Teacher.enabledUser).toBe('true');
    expect(v11Teacher.orgs[0]).toMatchObject({ sourcedId: teacherParent.roles[0].orgSourcedId, type: 'org' });
    expect(v11Teacher.orgs[0].href).toBe(`${server.v11BaseUrl}/orgs/${teacherParent.roles[0].orgSourcedId}`);
    expect(v11Teacher.roles).toBeUndefined();

    const enrollment = await get(`${server.v11BaseUrl}/enrollments?limit=1`);
    expect(enrollment.body.enrollments[0]).toMatchObject({ role: 'teacher', primary: 'true', user: { type: 'user' } });
    const v12Enrollment = await get(`${server.v12BaseUrl}/enrollments?limit=1`);
    expect(v12Enrollment.body.enrollments[0].primary).toBe(true);
    const demographics = await get(`${server.v11BaseUrl}/demographics?limit=1`);
    expect(['true', 'false']).toContain(demographics.body.demographics[0].white);
    const session = await get(
      `${server.v12BaseUrl}/academicSessions?filter=${encodeURIComponent("type='schoolYear'")}`,
    );
    expect(session.body.academicSessions).toHaveLength(1);
    const schoolYear = smallDistrict().academicSessions.find((entry) => entry.type === 'schoolYear')!.schoolYear;
    expect(session.body.academicSessions[0]).toMatchObject({ schoolYear, org: { type: 'org' } });
    expect((await get(`${server.v11BaseUrl}/schools`)).body.orgs).toHaveLength(3);
    expect((await get(`${server.v12BaseUrl}/users/nope`)).status).toBe(404);
  });

  it('prefixes 1.1 ids by role like Infinite Campus, and follows a 1.1→1.2 id remap', async () => {
    const server = await serve({ ic11RolePrefixedIds: true, icLegacySourceIdMetadata: true });
    const teacherParent = server.dataset.users.find(
      (user) => user.roles[0].role === 'teacher' && user.roles.some((role) => role.role === 'parent'),
    )!;
    const legacyId = teacherParent.sourcedId;
    const v11 = await get(
      `${server.v11BaseUrl}/users?filter=${encodeURIComponent(`identifier='${teacherParent.identifier}'`)}`,
    );
    expect(v11.body.users.map((user: { sourcedId: string }) => user.sourcedId).sort()).toEqual([
      `p${legacyId}`,
      `t${legacyId}`,
    ]);

    const mapping = server.remapUserIds((id) => uuidFromString(`ic:${id}`));
    const newId = mapping.get(legacyId)!;
    expect(newId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const v12 = await get(`${server.v12BaseUrl}/users/${newId}`);
    expect(v12.body.user.metadata.ic.legacysourceId).toBe(legacyId);
    const teaching = await get(
      `${server.v12BaseUrl}/enrollments?limit=1000&filter=${encodeURIComponent("role='teacher'")}`,
    );
    expect(teaching.body.enrollments.some((enrollment: Json) => enrollment.user.sourcedId === newId)).toBe(true);
    expect(teaching.body.enrollments.every((enrollment: Json) => enrollment.user.sourcedId.includes('-'))).toBe(true);
    // 1.1 keeps serving the old, prefixed ids.
    const stillV11 = await get(`${server.v11BaseUrl}/users/t${legacyId}`);
    expect(stillV11.status).toBe(200);
  });

  it('filters on dateLastModified (> and >=) and status, and rejects unsupported fields with imsx 400', async () => {
    const server = await serve({ clock: '2030-01-01T00:00:00.000Z' });
    const [teacher] = server.dataset.users.filter((user) => user.roles[0].role === 'teacher');
    server.updateRecords('users', [teacher.sourcedId], { email: 'new@example.org' });
    expect(teacher.dateLastModified).toBe('2030-01-01T00:00:00.000Z');
    server.advanceClock(1000);
    const [student] = server.dataset.users.filter((user) => user.roles[0].role === 'student');
    server.markToBeDeleted('users', [student.sourcedId]);

    const gte = await get(
      `${server.v12BaseUrl}/users?filter=${encodeURIComponent("dateLastModified>='2030-01-01T00:00:00Z'")}`,
    );
    expect(gte.body.users.map((user: Json) => user.sourcedId).sort()).toEqual(
      [teacher.sourcedId, student.sourcedId].sort(),
    );
    const gt = await get(
      `${server.v12BaseUrl}/users?filter=${encodeURIComponent("dateLastModified>'2030-01-01T00:00:00.000Z'")}`,
    );
    expect(gt.body.users).toEqual([expect.objectContaining({ sourcedId: student.sourcedId, status: 'tobedeleted' })]);
    expect(gt.headers.get('x-total-count')).toBe('1');
    const active = await get(`${server.v12BaseUrl}/users?limit=1000&filter=${encodeURIComponent("status='active'")}`);
    expect(active.body.users).toHaveLength(server.dataset.users.length - 1);
    const both = await get(
      `${server.v12BaseUrl}/users?filter=${encodeURIComponent("dateLastModified>='2030-01-01' AND status='active'")}`,
    );
    expect(both.body.users.map((user: Json) => user.sourcedId)).toEqual([teacher.sourcedId]);

    const unsupported = await get(`${server.v12BaseUrl}/users?filter=${encodeURIComponent("shoeSize='9'")}`);
    expect(unsupported.status).toBe(400);
    expect(unsupported.body).toMatchObject({
      imsx_codeMajor: 'failure',
      imsx_CodeMinor: { imsx_codeMinorField: [{ imsx_codeMinorFieldValue: 'invalid_filter_field' }] },
    });
  });

  it('applies mutations: remove, add', async () => {
    const server = await serve();
    const [gone, template] = server.dataset.classes;
    server.removeRecords('classes', [gone.sourcedId]);
    server.addRecords('classes', [
      { ...template, sourcedId: 'cls-new', status: undefined, dateLastModified: undefined },
    ]);
    const classes = await get(`${server.v12BaseUrl}/classes?limit=1000`);
    const ids = classes.body.classes.map((schoolClass: Json) => schoolClass.sourcedId);
    expect(ids).not.toContain(gone.sourcedId);
    expect(ids).toContain('cls-new');
    expect(ids.at(-1)).toBe('cls-new');
    expect(() => server.removeRecords('classes', ['does-not-exist'])).toThrow(/does-not-exist/);
  });
});

describe('FakeOneRosterServer auth', () => {
  const oauth2 = { kind: 'oauth2', clientId: 'homeroom', clientSecret: 's3cret', expiresIn: 600 } as const;
  const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

  async function token(server: FakeOneRosterServer, secret = 's3cret'): Promise<Response> {
    return fetch(`${server.tokenUrl}?appName=homeroom`, {
      method: 'POST',
      headers: { Authorization: basic('homeroom', secret), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=roster.readonly',
    });
  }

  it('OAuth2 client credentials: issues tokens, checks Bearer on every request, expires by the server clock', async () => {
    const server = await serve({ auth: { ...oauth2, expiresInAsString: true }, clock: '2030-01-01T00:00:00Z' });
    expect((await token(server, 'wrong')).status).toBe(401);
    const granted = await token(server);
    expect(granted.status).toBe(200);
    const body = (await granted.json()) as { access_token: string; expires_in: unknown; token_type: string };
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: '600' });
    expect(server.tokensIssued).toBe(1);

    expect((await get(`${server.v12BaseUrl}/orgs`)).status).toBe(401);
    expect((await get(`${server.v12BaseUrl}/orgs`, { Authorization: 'Bearer forged' })).status).toBe(401);
    const ok = await get(`${server.v12BaseUrl}/orgs`, { Authorization: `Bearer ${body.access_token}` });
    expect(ok.status).toBe(200);
    server.advanceClock(601_000);
    expect((await get(`${server.v12BaseUrl}/orgs`, { Authorization: `Bearer ${body.access_token}` })).status).toBe(401);
    expect(server.requests.map((entry) => entry.authKind)).toEqual([
      'basic',
      'basic',
      'none',
      'bearer',
      'bearer',
      'bearer',
    ]);
  });

  it('OAuth 1.0a: accepts a good HMAC-SHA1 signature over all query params; rejects tampering, bad secrets and replays', async () => {
    const credentials = { consumerKey: 'key', consumerSecret: 'secret' };
    const server = await serve({ auth: { kind: 'oauth1', ...credentials } });
    const url = `${server.v11BaseUrl}/users?limit=5&offset=10&filter=${encodeURIComponent("status='active'")}`;

    const authorization = signOAuth1Request('GET', url, credentials);
    const ok = await get(url, { Authorization: authorization });
    expect(ok.status).toBe(200);
    expect(ok.body.users).toHaveLength(5);
    expect((await get(url, { Authorization: authorization })).status).toBe(401);

    const tampered = url.replace('limit=5', 'limit=6');
    expect((await get(tampered, { Authorization: signOAuth1Request('GET', url, credentials) })).status).toBe(401);
    const wrongSecret = signOAuth1Request('GET', url, { consumerKey: 'key', consumerSecret: 'nope' });
    expect((await get(url, { Authorization: wrongSecret })).status).toBe(401);
    const sha256 = signOAuth1Request('GET', url, credentials, { signatureMethod: 'HMAC-SHA256' });
    expect((await get(url, { Authorization: sha256 })).status).toBe(200);
    const stale = signOAuth1Request('GET', url, credentials, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect((await get(url, { Authorization: stale })).status).toBe(401);
    expect((await get(url)).status).toBe(401);
    expect(server.requests.at(-1)!.authKind).toBe('none');
    expect(server.requests[0]).toMatchObject({
      authKind: 'oauth1',
      filter: "status='active'",
      status: 200,
      version: '1.1',
    });
  });
});

describe('FakeOneRosterServer faults', () => {
  it('rate-limit answers 429 with Retry-After, then recovers', async () => {
    const server = await serve();
    const fault = server.injectFault({ kind: 'rate-limit', retryAfterSeconds: 7, times: 1, path: '/users' });
    expect((await get(`${server.v12BaseUrl}/orgs`)).status).toBe(200);
    const limited = await get(`${server.v12BaseUrl}/users`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.body.imsx_CodeMinor.imsx_codeMinorField[0].imsx_codeMinorFieldValue).toBe('server_busy');
    expect((await get(`${server.v12BaseUrl}/users`)).status).toBe(200);
    expect(fault.hits).toBe(1);
  });

  it('server-error answers 500/503 after skipping the first matches', async () => {
    const server = await serve();
    server.injectFault({ kind: 'server-error', status: 503, skip: 1, times: 1 });
    expect((await get(`${server.v12BaseUrl}/orgs`)).status).toBe(200);
    expect((await get(`${server.v12BaseUrl}/orgs`)).status).toBe(503);
    expect((await get(`${server.v12BaseUrl}/orgs`)).status).toBe(200);
  });

  it('slow outlasts a client timeout; in-flight requests are counted', async () => {
    const server = await serve();
    server.injectFault({ kind: 'slow', delayMs: 400, times: 1 });
    await expect(fetch(`${server.v12BaseUrl}/orgs`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    expect((await get(`${server.v12BaseUrl}/orgs`)).status).toBe(200);

    server.injectFault({ kind: 'slow', delayMs: 150, times: 3 });
    await Promise.all([1, 2, 3].map(() => get(`${server.v12BaseUrl}/orgs`)));
    expect(server.maxConcurrentRequests).toBeGreaterThanOrEqual(3);
  });

  it('malformed-json sends a truncated 200; missing-envelope a 200 without the collection key', async () => {
    const server = await serve();
    server.injectFault({ kind: 'malformed-json', times: 1 });
    const broken = await fetch(`${server.v12BaseUrl}/users`);
    expect(broken.status).toBe(200);
    const text = await broken.text();
    expect(() => JSON.parse(text) as unknown).toThrow();

    server.injectFault({ kind: 'missing-envelope', times: 1 });
    const envelopeless = await get(`${server.v12BaseUrl}/users`);
    expect(envelopeless.status).toBe(200);
    expect(envelopeless.body.users).toBeUndefined();
    expect(envelopeless.body.data).toHaveLength(100);
    expect(server.requests.map((entry) => entry.faults)).toEqual([['malformed-json'], ['missing-envelope']]);
  });

  it('token-expiry invalidates every issued token mid-paging', async () => {
    const server = await serve({ auth: { kind: 'oauth2', clientId: 'c', clientSecret: 's' } });
    const fetchToken = async (): Promise<string> => {
      const response = await fetch(server.tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=c&client_secret=s',
      });
      return ((await response.json()) as { access_token: string }).access_token;
    };
    server.injectFault({ kind: 'token-expiry', afterRequests: 2, times: 1 });
    const first = await fetchToken();
    const auth = { Authorization: `Bearer ${first}` };
    expect((await get(`${server.v12BaseUrl}/users?limit=10&offset=0`, auth)).status).toBe(200);
    expect((await get(`${server.v12BaseUrl}/users?limit=10&offset=10`, auth)).status).toBe(200);
    expect((await get(`${server.v12BaseUrl}/users?limit=10&offset=20`, auth)).status).toBe(401);
    const second = await fetchToken();
    expect(
      (await get(`${server.v12BaseUrl}/users?limit=10&offset=20`, { Authorization: `Bearer ${second}` })).status,
    ).toBe(200);
    expect(server.tokensIssued).toBe(2);
  });

  it('short-page returns fewer records than limit while more remain, with a consistent total', async () => {
    const server = await serve();
    server.injectFault({ kind: 'short-page', times: 1, returnCount: 4 });
    const page = await get(`${server.v12BaseUrl}/users?limit=10`);
    expect(page.body.users).toHaveLength(4);
    expect(Number(page.headers.get('x-total-count'))).toBe(server.dataset.users.length);
    expect(links(page).next).toContain('offset=10');
  });

  it('drop-records omits ids from listings, counted in X-Total-Count or not', async () => {
    const server = await serve();
    const ids = server.dataset.users.slice(0, 3).map((user) => user.sourcedId);
    const counted = server.injectFault({ kind: 'drop-records', sourcedIds: ids });
    const withTotal = await get(`${server.v12BaseUrl}/users?limit=1000`);
    expect(withTotal.body.users).toHaveLength(server.dataset.users.length - 3);
    expect(Number(withTotal.headers.get('x-total-count'))).toBe(server.dataset.users.length);
    counted.remove();

    server.injectFault({ kind: 'drop-records', sourcedIds: ids, countInTotal: false });
    const withoutTotal = await get(`${server.v12BaseUrl}/users?limit=10`);
    expect(Number(withoutTotal.headers.get('x-total-count'))).toBe(server.dataset.users.length - 3);
    expect(withoutTotal.body.users).toHaveLength(10);
    expect(withoutTotal.body.users.map((user: Json) => user.sourcedId)).not.toContain(ids[0]);
  });

  it('reset destroys the socket without an answer', async () => {
    const server = await serve();
    server.injectFault({ kind: 'reset', times: 1 });
    await expect(fetch(`${server.v12BaseUrl}/orgs`)).rejects.toThrow();
    expect((await get(`${server.v12BaseUrl}/orgs`)).status).toBe(200);
    expect(server.requests[0]).toMatchObject({ status: 0, faults: ['reset'] });
  });
});

describe('OneRoster CSV writer', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'oneroster-csv-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('writes a 1.1 bulk zip: manifest at the root, exact headers, RFC 4180 quoting, blank status', async () => {
    const dataset = smallDistrict();
    const { path } = await writeOneRosterCsvZip(dataset, {
      version: '1.1',
      mode: 'bulk',
      path: join(directory, 'v11.zip'),
    });
    const files = await readZip(path);
    expect([...files.keys()]).toEqual([
      'manifest.csv',
      'academicSessions.csv',
      'orgs.csv',
      'courses.csv',
      'classes.csv',
      'users.csv',
      'enrollments.csv',
      'demographics.csv',
    ]);
    const manifest = files.get('manifest.csv')!.toString('utf8');
    expect(manifest).toContain('oneroster.version,1.1\r\n');
    expect(manifest).toContain('file.users,bulk\r\n');
    expect(manifest).toContain('file.results,absent\r\n');
    const users = files.get('users.csv')!.toString('utf8').split('\r\n');
    expect(users[0]).toBe(
      'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,' +
        'middleName,identifier,email,sms,phone,agentSourcedIds,grades,password',
    );
    const smith = users.find((line) => line.includes('Smith, Jr.'))!;
    expect(smith).toContain(',"Smith, Jr.",');
    expect(smith).toContain(',"Ann ""Annie""",');
    expect(smith.startsWith(`${dataset.users[2].sourcedId},,,true,`)).toBe(true);
    expect(users.some((line) => line.includes("O'Brien"))).toBe(true);
  });

  it('writes a 1.2 delta zip with roles.csv, filled status, BOM and CR line endings', async () => {
    const dataset = smallDistrict();
    dataset.users[0].status = 'tobedeleted';
    const { path } = await writeOneRosterCsvZip(dataset, {
      version: '1.2',
      mode: 'delta',
      files: ['users', 'roles'],
      bom: true,
      lineEnding: 'cr',
      path: join(directory, 'v12.zip'),
    });
    const files = await readZip(path);
    expect([...files.keys()]).toEqual(['manifest.csv', 'users.csv', 'roles.csv']);
    const users = files.get('users.csv')!.toString('utf8');
    expect(users.startsWith('\uFEFFsourcedId,status,dateLastModified,enabledUser,username,')).toBe(true);
    expect(users).not.toContain('\n');
    const header = users.split('\r')[0];
    expect(header).not.toContain('orgSourcedIds');
    expect(
      header.endsWith('preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns'),
    ).toBe(true);
    expect(users.split('\r')[1]).toMatch(/^\d+,tobedeleted,\d{4}-\d{2}-\d{2}T/);
    const roles = files.get('roles.csv')!.toString('utf8').split('\r');
    expect(roles[0]).toBe(
      '\uFEFFsourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId',
    );
    expect(files.get('manifest.csv')!.toString('utf8')).toContain('file.enrollments,absent\r');
  });

  it('builds broken zips: nested folder, missing manifest, bad header', async () => {
    const dataset = smallDistrict();
    const nested = await writeBrokenOneRosterCsvZip(dataset, {
      version: '1.1',
      mode: 'bulk',
      breakage: 'nested-folder',
      path: join(directory, 'nested.zip'),
    });
    const names = [...(await readZip(nested.path)).keys()];
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((name) => name.startsWith('oneroster/'))).toBe(true);
    const noManifest = await writeBrokenOneRosterCsvZip(dataset, {
      version: '1.2',
      mode: 'bulk',
      breakage: 'missing-manifest',
      path: join(directory, 'no-manifest.zip'),
    });
    expect((await readZip(noManifest.path)).has('manifest.csv')).toBe(false);
    const badHeader = await writeBrokenOneRosterCsvZip(dataset, {
      version: '1.2',
      mode: 'bulk',
      breakage: 'bad-header',
      path: join(directory, 'bad-header.zip'),
    });
    expect((await readZip(badHeader.path)).get('users.csv')!.toString('utf8')).toMatch(/^sourcedId,.*,firstName,/);
  });
});
