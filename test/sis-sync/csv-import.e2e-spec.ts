import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildOneRosterCsvFiles,
  expandTo11Users,
  generateDistrict,
  writeBrokenOneRosterCsvZip,
  writeOneRosterCsvZip,
  writeZip,
  type OneRosterCsvOptions,
  type OneRosterDataset,
} from '../fakes/oneroster/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import {
  activeCount,
  createCsvConnection,
  createOneRosterConnection,
  importAndWait,
  MIRROR_TABLE_OF,
  mirrorRows,
  sql,
  totals,
  uploadImport,
  waitForRun,
  userWithRole,
} from './sync-support.js';

const DISTRICT = { schools: 2, students: 30, teachers: 5, classes: 6 };

/**
 * A 1.2 bulk package of `dataset` in which every occurrence of each marker in users.csv becomes bytes that are not
 * UTF-8 (`a`, 0xFF, `b`): the row can be split into fields but one value cannot be read.
 */
async function writeWithInvalidUtf8(
  dataset: OneRosterDataset,
  path: string,
  markers: readonly string[],
): Promise<void> {
  const files = buildOneRosterCsvFiles(dataset, { version: '1.2', mode: 'bulk' });
  await writeZip(
    path,
    [...files].map(([name, content]) => {
      if (name !== 'users.csv') return { name, content };
      let bytes = Buffer.from(content, 'utf8');
      for (const marker of markers) {
        const index = bytes.indexOf(marker);
        if (index < 0) throw new Error(`${marker} is not in users.csv`);
        bytes = Buffer.concat([
          bytes.subarray(0, index),
          Buffer.from([0x61, 0xff, 0x62]),
          bytes.subarray(index + Buffer.byteLength(marker)),
        ]);
      }
      return { name, content: bytes };
    }),
  );
}

/**
 * A 1.2 bulk package whose users.csv holds, after its first row, a row with one quoted field of `fieldBytes`
 * letters: inside every zip guard (size, ratio ~60:1), generated while it is zipped, never held in memory.
 */
async function writeWithHugeField(dataset: OneRosterDataset, path: string, fieldBytes: number): Promise<void> {
  const files = buildOneRosterCsvFiles(dataset, { version: '1.2', mode: 'bulk' });
  const users = files.get('users.csv')!;
  const [header, first, ...rest] = users.split('\r\n');
  const piece = Buffer.alloc(1024 ** 2, 0x61);
  let seed = 12345;
  for (let index = 0; index < piece.length; index += 128) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    piece[index] = 0x61 + (seed % 26);
  }
  async function* usersCsv(): AsyncGenerator<Buffer> {
    yield Buffer.from(`${header}\r\n${first}\r\nhuge-1,,,true,"`);
    for (let left = fieldBytes; left > 0; left -= piece.length)
      yield left >= piece.length ? piece : piece.subarray(0, left);
    yield Buffer.from(`",x,y\r\n${rest.join('\r\n')}`);
  }
  const zip = new ZipFile();
  for (const [name, content] of files) {
    if (name === 'users.csv') zip.addReadStream(Readable.from(usersCsv()), name, { compressionLevel: 1 });
    else zip.addBuffer(Buffer.from(content), name);
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
}

/** Runs `work` while sampling this process's resident memory; resolves to its result and the peak growth. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  try {
    const result = await work();
    return { result, growth: Math.max(peak, process.memoryUsage.rss()) - baseline };
  } finally {
    clearInterval(sampler);
  }
}

/** Active enrollments whose person is inactive, for one connection (must always be none). */
async function enrollmentsOfInactivePeople(databaseUrl: string, connectionId: string): Promise<string[]> {
  const rows = await sql<{ sourced_id: string }>(
    databaseUrl,
    `SELECT e.sourced_id FROM roster_enrollments e
       JOIN roster_people p ON p.connection_id = e.connection_id AND p.sourced_id = e.user_sourced_id
      WHERE e.connection_id = $1 AND e.status = 'active' AND p.status <> 'active'`,
    [connectionId],
  );
  return rows.map((row) => row.sourced_id);
}

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

/** The files of a bulk package with some lines of one file rewritten (`edit` sees each data line, header excluded). */
function editedFiles(
  dataset: OneRosterDataset,
  version: '1.1' | '1.2',
  file: string,
  edit: (line: string) => string,
): { name: string; content: string }[] {
  const files = buildOneRosterCsvFiles(dataset, { version, mode: 'bulk' });
  const text = files.get(file);
  if (text === undefined) throw new Error(`${file} is not in the package`);
  const [header, ...lines] = text.split('\r\n');
  files.set(file, [header, ...lines.map((line) => (line === '' ? line : edit(line)))].join('\r\n'));
  return [...files].map(([name, content]) => ({ name, content }));
}

/** The user sourcedIds of a package's enrollments.csv rows with `role`, by class (the rows have no quoted fields). */
function enrolledAs(files: readonly { name: string; content: string }[], role: string): Map<string, string> {
  const [header, ...lines] = files.find((entry) => entry.name === 'enrollments.csv')!.content.split('\r\n');
  const columns = header.split(',');
  const byUser = new Map<string, string>();
  for (const line of lines.filter((text) => text !== '')) {
    const fields = line.split(',');
    if (fields[columns.indexOf('role')] === role) {
      byUser.set(fields[columns.indexOf('userSourcedId')], fields[columns.indexOf('classSourcedId')]);
    }
  }
  return byUser;
}

/** Sets the dateLastModified (third field) of a data line whose first three fields are unquoted. */
function withDateLastModified(line: string, value: string): string {
  return line.replace(/^([^,"]*),([^,"]*),([^,"]*),/, `$1,$2,${value},`);
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

  /** A CSV connection of its own, so each test's sourcedIds start from an empty mirror. */
  function connection(fields: Record<string, unknown> = {}): Promise<string> {
    return createCsvConnection(app.url, token, { name: `csv ${Math.random().toString(36).slice(2)}`, ...fields });
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
    // Not one of the CSV connections the tests before this one created: the shared one, by its reserved name.
    const connections = await request(app.url).get('/api/v1/sis/connections').set(bearer(token)).expect(200);
    const items = (connections.body as { items?: unknown[] }).items ?? (connections.body as unknown[]);
    expect(items.filter((item) => (item as { provider: string }).provider === 'oneroster-csv').length).toBeGreaterThan(
      1,
    );
    expect(items.find((item) => (item as { id: string }).id === real.connectionId)).toMatchObject({
      name: 'OneRoster CSV uploads',
      provider: 'oneroster-csv',
    });
  });

  it('two CSV connections keep their records apart: the same file mirrors twice, a deactivation in one leaves the other', async () => {
    const dataset = generateDistrict({ seed: 'csv-two-feeds', ...DISTRICT });
    // No deactivation hold: the second bulk file below drops records on purpose.
    const unheld = { thresholds: { '*': { deactivate: {}, update: {} } } };
    const vendorA = await connection({ name: 'Vendor A feed', version: '1.2', ...unheld });
    const charter = await connection({ name: 'Charter school feed', version: '1.2', ...unheld });
    const path = await zip(dataset, { version: '1.2', mode: 'bulk' });
    for (const connectionId of [vendorA, charter]) {
      const run = await importAndWait(app.url, token, path, { connectionId });
      expect(run.state, JSON.stringify(run)).toBe('succeeded');
      expect(run.connectionId).toBe(connectionId);
      expect(run.counts['people']?.['created']).toBe(dataset.users.length);
    }
    const charterBefore: Record<string, unknown[]> = {};
    for (const table of Object.values(MIRROR_TABLE_OF)) {
      charterBefore[table] = await mirrorRows(app.databaseUrl, table, charter);
      expect(charterBefore[table].length, table).toBe((await mirrorRows(app.databaseUrl, table, vendorA)).length);
    }

    // Vendor A's next bulk file no longer lists one student: only Vendor A's copy of them is deactivated.
    const student = dataset.users.find((user) => user.roles.some((role) => role.role === 'student'))!;
    const without = {
      ...dataset,
      users: dataset.users.filter((user) => user.sourcedId !== student.sourcedId),
      enrollments: dataset.enrollments.filter((enrollment) => enrollment.userSourcedId !== student.sourcedId),
      demographics: dataset.demographics.filter((demographic) => demographic.sourcedId !== student.sourcedId),
    };
    const dropped = await importAndWait(app.url, token, await zip(without, { version: '1.2', mode: 'bulk' }), {
      connectionId: vendorA,
    });
    expect(dropped.state, JSON.stringify(dropped)).toBe('succeeded');
    expect(dropped.counts['people']?.['deactivated']).toBe(1);
    const statusOf = async (connectionId: string) =>
      (await mirrorRows(app.databaseUrl, 'roster_people', connectionId)).find(
        (row) => row['sourced_id'] === student.sourcedId,
      )?.['status'];
    expect(await statusOf(vendorA)).toBe('inactive');
    expect(await statusOf(charter)).toBe('active');
    for (const table of Object.values(MIRROR_TABLE_OF)) {
      expect(await mirrorRows(app.databaseUrl, table, charter), table).toEqual(charterBefore[table]);
    }
  });

  it('a REST connection takes no upload, a CSV connection no pull: both refused up front with 422, no run recorded', async () => {
    const rest = await createOneRosterConnection(app.url, token, {
      name: `rest ${Math.random().toString(36).slice(2)}`,
      baseUrl: 'https://sis.district.test/ims/oneroster/rostering/v1p2',
      auth: {
        type: 'oauth2',
        tokenUrl: 'https://sis.district.test/oauth2/token',
        clientId: 'homeroom',
        clientSecret: 'x',
      },
    });
    const csv = await connection({ name: `feed ${Math.random().toString(36).slice(2)}` });
    const runsOf = async (connectionId: string) =>
      (
        (await request(app.url).get(`/api/v1/sis/runs?connectionId=${connectionId}`).set(bearer(token)).expect(200))
          .body as { items: unknown[] }
      ).items;

    const path = await zip(generateDistrict({ seed: 'csv-wrong-target', ...DISTRICT }), {
      version: '1.2',
      mode: 'bulk',
    });
    const intoRest = await uploadImport(app.url, token, path, { connectionId: rest });
    expect(intoRest.status, JSON.stringify(intoRest.body)).toBe(422);
    expect(intoRest.body).toMatchObject({ code: 'SIS_SYNC.NOT_A_CSV_CONNECTION', field: 'connectionId' });
    expect(intoRest.body.title).toContain('oneroster-csv');

    const pulled = await request(app.url)
      .post(`/api/v1/sis/connections/${csv}/sync`)
      .set(bearer(token))
      .send({ mode: 'full' });
    expect(pulled.status, JSON.stringify(pulled.body)).toBe(422);
    expect(pulled.body).toMatchObject({ code: 'SIS_SYNC.CSV_CONNECTION_NEEDS_UPLOAD' });
    expect(pulled.body.title).toContain('upload');
    expect(pulled.body.title).toContain('POST /api/v1/sis/imports');
    expect(await runsOf(rest)).toEqual([]);
    expect(await runsOf(csv)).toEqual([]);
    const health = await request(app.url).get(`/api/v1/sis/connections/${csv}/health`).set(bearer(token)).expect(200);
    expect(health.body).toMatchObject({ lastSuccess: null, consecutiveFailures: 0, nextScheduledRun: null });

    const tested = await request(app.url).post(`/api/v1/sis/connections/${csv}/test`).set(bearer(token));
    expect(tested.status, JSON.stringify(tested.body)).toBe(200);
    expect(tested.body).toMatchObject({ ok: true, checks: [{ check: 'upload', ok: true }] });
    expect(tested.body.checks[0].detail).toContain('dryRun=true');

    const scheduled = await request(app.url)
      .patch(`/api/v1/sis/connections/${csv}`)
      .set(bearer(token))
      .send({ schedule: { cron: '@daily', timeZone: 'America/Chicago' } });
    expect(scheduled.status, JSON.stringify(scheduled.body)).toBe(422);
    expect(scheduled.body).toMatchObject({ code: 'SIS_SYNC.INVALID_CONNECTION_SETTINGS', field: 'schedule' });
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

  it('re-importing a bulk package changes nothing; a delta tobedeleted row deactivates exactly that record and what depends on it', async () => {
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
    // The person goes, and with them what only exists through them: their enrollments and demographics (the mirror
    // never keeps an active enrollment of an inactive person).
    const enrollments = dataset.enrollments
      .filter((enrollment) => enrollment.userSourcedId === student.sourcedId && enrollment.status === 'active')
      .map((enrollment) => enrollment.sourcedId)
      .sort();
    const demographics = dataset.demographics
      .filter((record) => record.sourcedId === student.sourcedId && record.status === 'active')
      .map((record) => record.sourcedId);
    expect(enrollments.length).toBeGreaterThan(0);
    expect(delta.counts['people']?.['deactivated']).toBe(1);
    expect(delta.counts['enrollments']?.['deactivated']).toBe(enrollments.length);
    expect(delta.counts['demographics']?.['deactivated'] ?? 0).toBe(demographics.length);
    expect(totals(delta, 'deactivated')).toBe(1 + enrollments.length + demographics.length);
    expect(totals(delta, 'created') + totals(delta, 'updated') + totals(delta, 'restored')).toBe(0);

    const expectedChanges: Record<string, string[]> = {
      roster_people: [student.sourcedId],
      roster_enrollments: enrollments,
      roster_demographics: demographics,
    };
    for (const table of Object.values(MIRROR_TABLE_OF)) {
      const rows = await mirrorRows(app.databaseUrl, table, connectionId);
      const changed = rows.filter((row, index) => JSON.stringify(row) !== JSON.stringify(before[table][index]));
      expect(
        changed.map((row) => [row['sourced_id'], row['status']]),
        table,
      ).toEqual((expectedChanges[table] ?? []).map((id) => [id, 'inactive']));
    }
    expect(await enrollmentsOfInactivePeople(app.databaseUrl, connectionId)).toEqual([]);
  });

  it('a user row with a byte that is not UTF-8 is reported and kept as it is, never deactivated as absent', async () => {
    const dataset = generateDistrict({ seed: 'csv-bad-utf8', ...DISTRICT });
    const connectionId = await connection();
    const first = await importAndWait(app.url, token, await zip(dataset, { version: '1.2', mode: 'bulk' }), {
      connectionId,
    });
    expect(first.state, JSON.stringify(first)).toBe('succeeded');
    const enrolledStudents = dataset.users.filter(
      (user) =>
        user.roles.some((role) => role.role === 'student') &&
        dataset.enrollments.some((enrollment) => enrollment.userSourcedId === user.sourcedId),
    );
    const broken = enrolledStudents.slice(0, 2);
    broken.forEach((user, index) => (user.email = `broken-${index}@example.test`));
    const peopleBefore = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    const enrollmentsBefore = await mirrorRows(app.databaseUrl, 'roster_enrollments', connectionId);

    const path = join(dir, 'bad-utf8.zip');
    await writeWithInvalidUtf8(
      dataset,
      path,
      broken.map((_, index) => `broken-${index}@example.test`),
    );
    const run = await importAndWait(app.url, token, path, { connectionId });
    expect(run.state, JSON.stringify(run)).toBe('succeeded_with_issues');
    expect(totals(run, 'deactivated')).toBe(0);
    // Both students (and everything else) are exactly as they were, their enrollments still active.
    expect(await mirrorRows(app.databaseUrl, 'roster_people', connectionId)).toEqual(peopleBefore);
    expect(await mirrorRows(app.databaseUrl, 'roster_enrollments', connectionId)).toEqual(enrollmentsBefore);
    const issues = await request(app.url).get(`/api/v1/sis/runs/${run.id}/issues`).set(bearer(token)).expect(200);
    const reported = JSON.stringify(issues.body);
    for (const user of broken) expect(reported).toContain(user.sourcedId);
    expect(reported).toContain('not valid UTF-8');
  });

  it('a row whose sourcedId cannot be read stops absence deactivations of its entity for the run, and says why', async () => {
    const dataset = generateDistrict({ seed: 'csv-bad-id', ...DISTRICT });
    const connectionId = await connection();
    const first = await importAndWait(app.url, token, await zip(dataset, { version: '1.2', mode: 'bulk' }), {
      connectionId,
    });
    expect(first.state, JSON.stringify(first)).toBe('succeeded');
    const students = dataset.users.filter((user) => user.roles.some((role) => role.role === 'student'));
    const [unreadable, removed] = students;
    // The row of one student loses its readable sourcedId; another student leaves the package for real.
    const marker = `${unreadable.sourcedId}-unreadable-id`;
    const originalId = unreadable.sourcedId;
    unreadable.sourcedId = marker;
    dataset.users = dataset.users.filter((user) => user !== removed);
    const path = join(dir, 'bad-id.zip');
    await writeWithInvalidUtf8(dataset, path, [marker]);
    const run = await importAndWait(app.url, token, path, { connectionId });
    expect(run.state, JSON.stringify(run)).toBe('succeeded_with_issues');
    expect(run.counts['people']?.['deactivated'] ?? 0).toBe(0);
    const people = new Map(
      (await mirrorRows(app.databaseUrl, 'roster_people', connectionId)).map((row) => [row['sourced_id'], row]),
    );
    expect(people.get(originalId)?.['status']).toBe('active');
    expect(people.get(removed.sourcedId)?.['status']).toBe('active');
    expect(await enrollmentsOfInactivePeople(app.databaseUrl, connectionId)).toEqual([]);
    const issues = await request(app.url).get(`/api/v1/sis/runs/${run.id}/issues`).set(bearer(token)).expect(200);
    expect(JSON.stringify(issues.body)).toMatch(/no people record was deactivated/);
  });

  it('a package with one huge quoted field fails the run cleanly, with memory bounded (README: < 400 MB peak)', async () => {
    const dataset = generateDistrict({ seed: 'csv-huge-field', ...DISTRICT });
    const connectionId = await connection();
    const path = join(dir, 'huge-field.zip');
    await writeWithHugeField(dataset, path, 256 * 1024 ** 2);
    global.gc?.();
    const { result: run, growth } = await withPeakRss(() => importAndWait(app.url, token, path, { connectionId }));
    expect(run.state, JSON.stringify(run)).toBe('failed');
    expect(run.errorCode).toBe('SIS_SYNC.CSV_INVALID');
    expect(run.errorMessage).toMatch(/users\.csv line 3: a record is longer than the limit/);
    expect(run.errorMessage).not.toContain('aaaa');
    for (const table of Object.values(MIRROR_TABLE_OF)) {
      expect(await activeCount(app.databaseUrl, table, connectionId), table).toBe(0);
    }
    // The API and worker of this test process together, the 256 MB field included: the limit keeps it to megabytes.
    expect(growth).toBeLessThan(300 * 1024 ** 2);
  }, 120_000);

  it('a users row with an empty field beyond the header keeps its teacher on the class, with one warning (§4)', async () => {
    const dataset = generateDistrict({ seed: 'csv-trailing-fields', ...DISTRICT });
    const connectionId = await connection();
    const pristine = editedFiles(dataset, '1.1', 'users.csv', (line) => line);
    const [teacherId, classId] = [...enrolledAs(pristine, 'teacher')][0];
    const padded = new Set([teacherId, [...enrolledAs(pristine, 'student').keys()][0]]);
    // `The row has 19 fields but the header has 18`, as a public district sample has it.
    const files = editedFiles(dataset, '1.1', 'users.csv', (line) =>
      padded.has(line.split(',')[0]) ? `${line},` : line,
    );
    const path = join(dir, 'trailing-fields.zip');
    await writeZip(path, files);
    const run = await importAndWait(app.url, token, path, { connectionId });
    // Warnings only: the run is a plain success.
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    const expected = expectedCounts(dataset, '1.1');
    expect(run.counts['people']?.['created']).toBe(expected['people']);
    expect(run.counts['enrollments']?.['created']).toBe(expected['enrollments']);
    const teaching = await sql(
      app.databaseUrl,
      `SELECT e.status FROM roster_enrollments e
         JOIN roster_people p ON p.connection_id = e.connection_id AND p.sourced_id = e.user_sourced_id
        WHERE e.connection_id = $1 AND e.user_sourced_id = $2 AND e.class_sourced_id = $3 AND p.status = 'active'`,
      [connectionId, teacherId, classId],
    );
    expect(teaching).toEqual([{ status: 'active' }]);
    const issues = await request(app.url).get(`/api/v1/sis/runs/${run.id}/issues`).set(bearer(token)).expect(200);
    expect(run.issueCount).toBe(1);
    expect(issues.body).toMatchObject([
      {
        entity: 'people',
        sourcedId: null,
        severity: 'warning',
        message: expect.stringMatching(/^users\.csv: 2 rows have empty fields beyond the 18 columns of the header/),
      },
    ]);
  });

  it('a non-ISO dateLastModified (1/05/2023) keeps the user, without the timestamp, and warns by shape (§4)', async () => {
    const dataset = generateDistrict({ seed: 'csv-us-date', ...DISTRICT });
    const connectionId = await connection();
    const pristine = editedFiles(dataset, '1.2', 'users.csv', (line) => line);
    const [teacherId, classId] = [...enrolledAs(pristine, 'teacher')][0];
    const students = [...enrolledAs(pristine, 'student').keys()].slice(0, 2);
    const stamped = new Map([
      [teacherId, '1/05/2023'],
      [students[0], '1/05/2023'],
      [students[1], '2023-01-05T10:00:00Z'],
    ]);
    const files = editedFiles(dataset, '1.2', 'users.csv', (line) => {
      const value = stamped.get(line.split(',')[0]);
      return value === undefined ? line : withDateLastModified(line, value);
    });
    const path = join(dir, 'us-date.zip');
    await writeZip(path, files);
    const run = await importAndWait(app.url, token, path, { connectionId });
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    expect(run.counts['people']?.['created']).toBe(dataset.users.length);
    const people = await sql<{ sourced_id: string; source_modified_at: Date | null }>(
      app.databaseUrl,
      `SELECT sourced_id, source_modified_at FROM roster_people
        WHERE connection_id = $1 AND sourced_id = ANY($2) AND status = 'active' ORDER BY sourced_id`,
      [connectionId, [...stamped.keys()]],
    );
    expect(
      Object.fromEntries(people.map((row) => [row.sourced_id, row.source_modified_at?.toISOString() ?? null])),
    ).toEqual({ [teacherId]: null, [students[0]]: null, [students[1]]: '2023-01-05T10:00:00.000Z' });
    expect(
      await sql(
        app.databaseUrl,
        `SELECT 1 FROM roster_enrollments WHERE connection_id = $1 AND user_sourced_id = $2 AND class_sourced_id = $3
            AND status = 'active'`,
        [connectionId, teacherId, classId],
      ),
    ).toHaveLength(1);
    const issues = await request(app.url).get(`/api/v1/sis/runs/${run.id}/issues`).set(bearer(token)).expect(200);
    expect(issues.body).toEqual([
      expect.objectContaining({
        entity: 'people',
        field: 'dateLastModified',
        severity: 'warning',
        message:
          '2 users.csv rows have a dateLastModified that is not an ISO 8601 date-time (shaped like 9/99/9999): ' +
          'the dateLastModified was ignored and the records kept',
      }),
    ]);
  });

  it('a package with a bad manifest value and bad headers in two files reports all three in one run (§5)', async () => {
    const dataset = generateDistrict({ seed: 'csv-structure', ...DISTRICT });
    const connectionId = await connection();
    const files = buildOneRosterCsvFiles(dataset, { version: '1.2', mode: 'bulk' });
    const renameColumn = (file: string, from: string, to: string): void => {
      const [header, ...rest] = files.get(file)!.split('\r\n');
      const columns = header.split(',');
      expect(columns).toContain(from);
      files.set(file, [columns.map((column) => (column === from ? to : column)).join(','), ...rest].join('\r\n'));
    };
    files.set('manifest.csv', files.get('manifest.csv')!.replace('file.demographics,bulk', 'file.demographics,full'));
    renameColumn('users.csv', 'givenName', 'firstName');
    renameColumn('classes.csv', 'classType', 'type');
    const path = join(dir, 'structure.zip');
    await writeZip(
      path,
      [...files].map(([name, content]) => ({ name, content })),
    );
    const run = await importAndWait(app.url, token, path, { connectionId });
    expect(run.state).toBe('failed');
    expect(run.errorCode).toBe('SIS_SYNC.CSV_INVALID');
    expect(run.errorMessage).toMatch(
      /^The package has 3 structural problems \(in manifest\.csv, classes\.csv, users\.csv\)/,
    );
    expect(run.issueCount).toBe(3);
    const issues = await request(app.url).get(`/api/v1/sis/runs/${run.id}/issues`).set(bearer(token)).expect(200);
    expect(issues.body).toMatchObject([
      { entity: 'run', field: 'file.demographics', severity: 'error', message: expect.stringContaining('"full"') },
      { entity: 'run', field: 'classType', severity: 'error', message: expect.stringContaining('classes.csv') },
      { entity: 'run', field: 'givenName', severity: 'error', message: expect.stringContaining('users.csv') },
    ]);
    for (const table of Object.values(MIRROR_TABLE_OF)) {
      expect(await activeCount(app.databaseUrl, table, connectionId), table).toBe(0);
    }
  });

  it('a bulk package whose every user row is rejected is held before anything is applied, with the reason', async () => {
    const dataset = generateDistrict({ seed: 'csv-all-users-rejected', ...DISTRICT });
    const connectionId = await connection();
    // roles.csv keeps its header only: no user has a role, so the source refuses every users.csv row.
    const files = buildOneRosterCsvFiles(dataset, { version: '1.2', mode: 'bulk' });
    const path = join(dir, 'all-users-rejected.zip');
    await writeZip(
      path,
      [...files].map(([name, content]) => ({
        name,
        content: name === 'roles.csv' ? `${content.split('\r\n')[0]}\r\n` : content,
      })),
    );
    const users = dataset.users.length;

    const dry = await importAndWait(app.url, token, path, { connectionId, dryRun: true });
    expect(dry.state, JSON.stringify(dry)).toBe('succeeded_with_issues');
    expect(dry.holdReasons).toContainEqual(
      expect.objectContaining({ kind: 'rejected', entity: 'people', count: users, percent: 100 }),
    );

    const run = await importAndWait(app.url, token, path, { connectionId });
    expect(run.state, JSON.stringify(run)).toBe('held');
    expect(run.holdReasons).toEqual([
      {
        kind: 'rejected',
        entity: 'people',
        count: users,
        pulled: users,
        percent: 100,
        limit: `10% of ${users} pulled records`,
      },
    ]);
    expect(run.counts['people']).toMatchObject({ pulled: users, rejected: users });
    expect(run.counts['orgs']).toMatchObject({ pulled: dataset.orgs.length, rejected: 0 });
    // Held in review: not even the orgs and sessions were committed.
    for (const table of Object.values(MIRROR_TABLE_OF)) {
      expect(await activeCount(app.databaseUrl, table, connectionId), table).toBe(0);
    }
    const issues = await request(app.url).get(`/api/v1/sis/runs/${run.id}/issues`).set(bearer(token)).expect(200);
    expect(JSON.stringify(issues.body)).toContain('no active role for this user in roles.csv');

    // Approvable like any hold: the approver takes what could be read.
    await request(app.url).post(`/api/v1/sis/runs/${run.id}/approve`).set(bearer(token)).expect(202);
    const applied = await waitForRun(app.url, token, run.id);
    expect(applied.state, JSON.stringify(applied)).toBe('succeeded_with_issues');
    expect(applied.counts['people']).toMatchObject({ pulled: users, rejected: users, created: 0 });
    expect(await activeCount(app.databaseUrl, 'roster_orgs', connectionId)).toBe(
      dataset.orgs.filter((org) => org.status === 'active').length,
    );
    expect(await activeCount(app.databaseUrl, 'roster_people', connectionId)).toBe(0);
  });

  it('a run records the uploaded file name as its source and the mode the manifest gives', async () => {
    const dataset = generateDistrict({ seed: 'csv-true-source', ...DISTRICT });
    const connectionId = await connection();
    const upload = async (path: string, filename: string) => {
      const response = await request(app.url)
        .post('/api/v1/sis/imports')
        .set(bearer(token))
        .field('connectionId', connectionId)
        .attach('file', path, { filename, contentType: 'application/zip' });
      expect(response.status, JSON.stringify(response.body)).toBe(202);
      return waitForRun(app.url, token, (response.body as { runId: string }).runId);
    };

    const bulk = await upload(
      await zip(dataset, { version: '1.2', mode: 'bulk' }),
      'C:\\fakepath\\Spring roster ✓.zip',
    );
    expect(bulk.state, JSON.stringify(bulk)).toBe('succeeded');
    expect(bulk).toMatchObject({ mode: 'full', source: 'OneRoster 1.2 CSV Spring roster ✓.zip' });

    const user = dataset.users[0];
    const changedAt = new Date(Date.now() + 1000).toISOString();
    user.givenName = 'Renamed';
    user.dateLastModified = changedAt;
    const delta = await upload(
      await zip(dataset, { version: '1.2', mode: 'delta', since: changedAt }),
      // A bidi override and a zero-width space: format characters a name must not carry into a report.
      '\u202echanges\u200b.zip',
    );
    expect(delta.state, JSON.stringify(delta)).toBe('succeeded');
    expect(delta).toMatchObject({ mode: 'delta', deltaSince: null, source: 'OneRoster 1.2 CSV changes.zip' });
    expect(delta.counts['people']).toMatchObject({ pulled: 1, rejected: 0, updated: 1 });
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
