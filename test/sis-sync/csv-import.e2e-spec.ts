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
