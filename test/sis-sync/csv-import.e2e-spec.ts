import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expandTo11Users,
  generateDistrict,
  writeBrokenOneRosterCsvZip,
  writeOneRosterCsvZip,
  type OneRosterCsvOptions,
  type OneRosterDataset,
} from '../fakes/oneroster/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import {
  activeCount,
  createOneRosterConnection,
  importAndWait,
  MIRROR_TABLE_OF,
  mirrorRows,
  totals,
  uploadImport,
  userWithRole,
} from './sync-support.js';

const DISTRICT = { schools: 2, students: 30, teachers: 5, classes: 6 };

/** Active records per mirror entity, as a package of this dataset and version carries them. */
function expectedCounts(dataset: OneRosterDataset, version: '1.1' | '1.2'): Record<string, number> {
  const active = <T extends { status: string }>(records: readonly T[]): T[] =>
    records.filter((record) => record.status === 'active');
  return {
    orgs: active(dataset.orgs).length,
    academicSessions: active(dataset.academicSessions).length,
    courses: active(dataset.courses).length,
    classes: active(dataset.classes).length,
    people: version === '1.1' ? expandTo11Users(active(dataset.users)).length : active(dataset.users).length,
    demographics: active(dataset.demographics).length,
    enrollments: active(dataset.enrollments).length,
  };
}

describe('OneRoster CSV import over HTTP', () => {
  let app: TestApp;
  let token: string;
  let dir: string;
  let zips = 0;

  beforeAll(async () => {
    app = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    token = (await login(app.url)).accessToken;
    dir = mkdtempSync(join(tmpdir(), 'homeroom-csv-import-'));
  });

  afterAll(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A connection of its own, so each test's sourcedIds start from an empty mirror. */
  function connection(): Promise<string> {
    return createOneRosterConnection(app.url, token, {
      name: `csv ${Math.random().toString(36).slice(2)}`,
      baseUrl: 'https://sis.district.test/ims/oneroster/rostering/v1p2',
      auth: {
        type: 'oauth2',
        tokenUrl: 'https://sis.district.test/oauth2/token',
        clientId: 'homeroom',
        clientSecret: 'x',
      },
    });
  }

  async function zip(dataset: OneRosterDataset, options: OneRosterCsvOptions): Promise<string> {
    const path = join(dir, `package-${++zips}.zip`);
    await writeOneRosterCsvZip(dataset, { ...options, path });
    return path;
  }

  it.each(['1.1', '1.2'] as const)('a OneRoster %s bulk package mirrors the district', async (version) => {
    const dataset = generateDistrict({ seed: `csv-bulk-${version}`, ...DISTRICT });
    const connectionId = await connection();
    const run = await importAndWait(app.url, token, await zip(dataset, { version, mode: 'bulk' }), { connectionId });
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    expect(run.connectionId).toBe(connectionId);
    expect(run.source).toContain(`OneRoster ${version} CSV`);
    const expected = expectedCounts(dataset, version);
    for (const [entity, count] of Object.entries(expected)) {
      expect(run.counts[entity]?.['created'], entity).toBe(count);
      expect(
        await activeCount(app.databaseUrl, MIRROR_TABLE_OF[entity as keyof typeof MIRROR_TABLE_OF], connectionId),
        entity,
      ).toBe(count);
    }
    // The 1.1 package is the per-role projection, so its people count is checked against the users it wrote.
    if (version === '1.2') expect(expected['people']).toBe(dataset.users.length);
  });

  it('without a connectionId the upload lands on the shared CSV-upload connection, and dryRun applies nothing', async () => {
    const dataset = generateDistrict({ seed: 'csv-shared', ...DISTRICT });
    const path = await zip(dataset, { version: '1.2', mode: 'bulk' });
    const dry = await importAndWait(app.url, token, path, { dryRun: true });
    expect(dry.state, JSON.stringify(dry)).toBe('succeeded');
    expect(dry.dryRun).toBe(true);
    expect(dry.preview?.['people']?.['create']).toBe(dataset.users.length);
    expect(await activeCount(app.databaseUrl, 'roster_people', dry.connectionId)).toBe(0);

    const real = await importAndWait(app.url, token, path);
    expect(real.state).toBe('succeeded');
    expect(real.connectionId).toBe(dry.connectionId);
    expect(await activeCount(app.databaseUrl, 'roster_people', real.connectionId)).toBe(dataset.users.length);
    const connections = await request(app.url).get('/api/v1/sis/connections').set(bearer(token)).expect(200);
    const listed = JSON.stringify(connections.body);
    expect(listed).toContain(real.connectionId);
    expect(listed).toContain('oneroster-csv');
  });

  it.each([
    ['a UTF-8 BOM and CRLF line endings', { bom: true, lineEnding: 'crlf' }],
    ['CR line endings', { lineEnding: 'cr' }],
    ['LF line endings with every field quoted', { lineEnding: 'lf', quoteAll: true }],
  ] as const)('names with commas and quotes survive %s', async (_label, format) => {
    const dataset = generateDistrict({ seed: `csv-format-${format.lineEnding}`, ...DISTRICT });
    const tricky: [string, string][] = [
      ['Jean "JJ"', 'Smith, Jr.'],
      ['Zoë', '"Quoted", Family'],
      ['Renée', 'O\'Brien, "The Third"'],
      ['Ana,Maria', 'Núñez'],
    ];
    tricky.forEach(([givenName, familyName], index) => {
      dataset.users[index].givenName = givenName;
      dataset.users[index].familyName = familyName;
    });
    const connectionId = await connection();
    const run = await importAndWait(app.url, token, await zip(dataset, { version: '1.2', mode: 'bulk', ...format }), {
      connectionId,
    });
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    expect(run.issueCount).toBe(0);

    const people = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    expect(people).toHaveLength(dataset.users.length);
    const byId = new Map(people.map((row) => [row['sourced_id'], row]));
    for (const user of dataset.users) {
      const row = byId.get(user.sourcedId);
      expect(row, user.sourcedId).toBeDefined();
      expect([row!['given_name'], row!['family_name']]).toEqual([user.givenName, user.familyName]);
    }
    // The BOM must not leak into the first header (sourcedId) nor into the first record's id.
    const orgs = await mirrorRows(app.databaseUrl, 'roster_orgs', connectionId);
    expect(orgs.map((row) => row['sourced_id']).sort()).toEqual(dataset.orgs.map((org) => org.sourcedId).sort());
  });

  it('a bad header fails the run with SIS_SYNC.CSV_INVALID and an issue naming the file', async () => {
    const dataset = generateDistrict({ seed: 'csv-bad-header', ...DISTRICT });
    const connectionId = await connection();
    const path = join(dir, 'bad-header.zip');
    await writeBrokenOneRosterCsvZip(dataset, { version: '1.2', mode: 'bulk', breakage: 'bad-header', path });
    const run = await importAndWait(app.url, token, path, { connectionId });
    expect(run.state).toBe('failed');
    expect(run.errorCode).toBe('SIS_SYNC.CSV_INVALID');
    expect(run.errorMessage).toContain('users.csv');
    expect(run.issueCount).toBeGreaterThan(0);
    const issues = await request(app.url).get(`/api/v1/sis/runs/${run.id}/issues`).set(bearer(token)).expect(200);
    expect(JSON.stringify(issues.body)).toContain('users.csv');
    for (const table of Object.values(MIRROR_TABLE_OF)) {
      expect(await activeCount(app.databaseUrl, table, connectionId), table).toBe(0);
    }
  });

  it('a package without manifest.csv fails clearly', async () => {
    const dataset = generateDistrict({ seed: 'csv-no-manifest', ...DISTRICT });
    const connectionId = await connection();
    const path = join(dir, 'no-manifest.zip');
    await writeBrokenOneRosterCsvZip(dataset, { version: '1.1', mode: 'bulk', breakage: 'missing-manifest', path });
    const run = await importAndWait(app.url, token, path, { connectionId });
    expect(run.state).toBe('failed');
    expect(run.errorCode).toBe('SIS_SYNC.CSV_INVALID');
    expect(run.errorMessage).toMatch(/manifest\.csv/);
    expect(await activeCount(app.databaseUrl, 'roster_orgs', connectionId)).toBe(0);
  });

  it('refuses a file that is not a zip, and a request without a file, with 400', async () => {
    const runsBefore = await request(app.url).get('/api/v1/sis/runs?limit=200').set(bearer(token)).expect(200);
    const notZip = join(dir, 'users.csv');
    writeFileSync(notZip, 'sourcedId,status,dateLastModified\r\nu1,,\r\n');
    const wrongType = await uploadImport(app.url, token, notZip);
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.code).toBe('SIS_SYNC.IMPORT_FILE_INVALID');

    const missing = await uploadImport(app.url, token, null);
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('SIS_SYNC.IMPORT_FILE_INVALID');

    const badConnection = await uploadImport(app.url, token, notZip, { connectionId: 'not-a-uuid' });
    expect(badConnection.status).toBe(400);

    // Nothing was queued for the refused uploads.
    const runsAfter = await request(app.url).get('/api/v1/sis/runs?limit=200').set(bearer(token)).expect(200);
    expect(runsAfter.body.items).toEqual(runsBefore.body.items);
  });

  it('an unknown connectionId is refused with 404', async () => {
    const dataset = generateDistrict({ seed: 'csv-unknown-connection', ...DISTRICT });
    const path = await zip(dataset, { version: '1.2', mode: 'bulk' });
    const response = await uploadImport(app.url, token, path, { connectionId: '00000000-0000-4000-8000-000000000000' });
    expect(response.status).toBe(404);
  });

  it('re-importing a bulk package changes nothing; a delta tobedeleted row deactivates exactly that record', async () => {
    const dataset = generateDistrict({ seed: 'csv-delta', ...DISTRICT });
    const connectionId = await connection();
    const bulk = await zip(dataset, { version: '1.2', mode: 'bulk' });
    const first = await importAndWait(app.url, token, bulk, { connectionId });
    expect(first.state, JSON.stringify(first)).toBe('succeeded');
    const before: Record<string, Record<string, unknown>[]> = {};
    for (const table of Object.values(MIRROR_TABLE_OF))
      before[table] = await mirrorRows(app.databaseUrl, table, connectionId);

    const again = await importAndWait(app.url, token, bulk, { connectionId });
    expect(again.state, JSON.stringify(again)).toBe('succeeded');
    expect(
      totals(again, 'created') + totals(again, 'updated') + totals(again, 'deactivated') + totals(again, 'restored'),
    ).toBe(0);
    expect(totals(again, 'unchanged')).toBe(totals(first, 'created'));
    for (const table of Object.values(MIRROR_TABLE_OF)) {
      expect(await mirrorRows(app.databaseUrl, table, connectionId), table).toEqual(before[table]);
    }

    const student = dataset.users.find(
      (user) =>
        user.roles.some((role) => role.role === 'student') &&
        dataset.enrollments.some((e) => e.userSourcedId === user.sourcedId),
    )!;
    // After every record the generator stamped (its newest is 00:00 UTC today), and not in the future.
    const stamps = Object.values(dataset).flatMap((records: { dateLastModified: string }[]) =>
      records.map((record) => Date.parse(record.dateLastModified)),
    );
    const changedAt = new Date(Math.max(Math.max(...stamps) + 1000, Date.now())).toISOString();
    student.status = 'tobedeleted';
    student.dateLastModified = changedAt;
    const delta = await importAndWait(
      app.url,
      token,
      await zip(dataset, { version: '1.2', mode: 'delta', since: changedAt }),
      { connectionId },
    );
    expect(delta.state, JSON.stringify(delta)).toBe('succeeded');
    expect(delta.counts['people']?.['deactivated']).toBe(1);
    expect(totals(delta, 'deactivated')).toBe(1);
    expect(totals(delta, 'created') + totals(delta, 'updated') + totals(delta, 'restored')).toBe(0);

    for (const table of Object.values(MIRROR_TABLE_OF)) {
      const rows = await mirrorRows(app.databaseUrl, table, connectionId);
      if (table !== 'roster_people') {
        expect(rows, table).toEqual(before[table]);
        continue;
      }
      const changed = rows.filter((row, index) => JSON.stringify(row) !== JSON.stringify(before[table][index]));
      expect(changed.map((row) => [row['sourced_id'], row['status']])).toEqual([[student.sourcedId, 'inactive']]);
    }
  });

  it('refuses teachers', async () => {
    const teacher = await userWithRole(app.url, token, 'teacher');
    const dataset = generateDistrict({ seed: 'csv-teacher', ...DISTRICT });
    const path = await zip(dataset, { version: '1.2', mode: 'bulk' });
    const response = await uploadImport(app.url, teacher, path);
    expect(response.status).toBe(403);
    await request(app.url).get('/api/v1/sis/runs').set(bearer(teacher)).expect(403);
    const operator = await userWithRole(app.url, token, 'sis_operator');
    const accepted = await importAndWait(app.url, operator, path, { dryRun: true });
    expect(accepted.state).toBe('succeeded');
  });
});
