import { createTestDatabase, type TestDatabase } from '@app/testing';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FakeOneRosterServer,
  generateDistrict,
  writeBrokenOneRosterCsvZip,
  writeOneRosterCsvZip,
} from '../fakes/oneroster/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app.js';
import {
  activeCount,
  createCsvConnection,
  createOneRosterConnection,
  getRun,
  MIRROR_TABLE_OF,
  sql,
} from './sync-support.js';

const bin = join(import.meta.dirname, '../../bin/homeroom.js');
const DISTRICT = { schools: 2, students: 25, teachers: 4, classes: 5 };

/**
 * Runs the compiled CLI. Asynchronously: the fake SIS lives in this process, so a blocking spawnSync would
 * starve it of the event loop while the CLI waits for its answers.
 */
function homeroom(args: string[], env: Record<string, string>): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn', NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.once('error', reject);
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

/** The run ids the CLI printed ("Run <uuid> queued."). */
function runIdOf(output: string): string {
  const match = /Run ([0-9a-f-]{36}) queued\./.exec(output);
  if (!match) throw new Error(`No run id in the CLI output:\n${output}`);
  return match[1];
}

describe('homeroom sync (compiled CLI)', () => {
  let database: TestDatabase;
  let app: TestApp;
  let token: string;
  let server: FakeOneRosterServer;
  let connectionId: string;
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    const secretsKey = randomBytes(32).toString('base64');
    database = await createTestDatabase('sync_cli');
    // The API process prepares the database: migrations, an administrator and a connection with a secret.
    app = await bootTestApp({ databaseUrl: database.url, env: { SIS_SECRETS_KEY: secretsKey } });
    token = (await login(app.url)).accessToken;
    server = new FakeOneRosterServer({
      dataset: generateDistrict({ seed: 'sync-cli', ...DISTRICT }),
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: 'cli-secret' },
    });
    await server.start();
    connectionId = await createOneRosterConnection(app.url, token, {
      name: 'CLI district',
      baseUrl: server.baseUrlFor('1.2'),
      auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'cli-secret' },
      pageSize: 20,
    });
    env = {
      DATABASE_URL: database.url,
      JWT_SECRET: TEST_JWT_SECRET,
      SIS_SECRETS_KEY: secretsKey,
      DATABASE_MIGRATE_ON_START: 'false',
      REDIS_URL: '',
    };
    dir = mkdtempSync(join(tmpdir(), 'homeroom-sync-cli-'));
  });

  afterAll(async () => {
    await server?.stop();
    await app?.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sync <connectionId> --full prints a summary table, exits 0 and mirrors the district', async () => {
    const result = await homeroom(['sync', connectionId, '--full'], env);
    expect(result.status, result.output).toBe(0);
    const runId = runIdOf(result.output);
    expect(result.output).toContain(`Run ${runId}: succeeded`);
    expect(result.output).toContain(`Source: OneRoster 1.2 REST`);
    // console.table: a boxed table with one row per entity and the action columns.
    expect(result.output).toMatch(/┌/);
    for (const column of ['entity', 'created', 'updated', 'deactivated', 'unchanged'])
      expect(result.output).toContain(column);
    const peopleRow = result.output.split('\n').find((line) => line.includes("'people'"));
    expect(peopleRow, result.output).toBeDefined();
    expect(peopleRow).toContain(String(server.dataset.users.length));

    const run = await getRun(app.url, token, runId);
    expect(run).toMatchObject({ state: 'succeeded', mode: 'full', trigger: 'cli', connectionId });
    const dataset = server.dataset;
    const expected: Record<string, number> = {
      orgs: dataset.orgs.length,
      academicSessions: dataset.academicSessions.length,
      courses: dataset.courses.length,
      classes: dataset.classes.length,
      people: dataset.users.length,
      demographics: dataset.demographics.length,
      enrollments: dataset.enrollments.length,
    };
    for (const [entity, count] of Object.entries(expected)) {
      expect(
        await activeCount(app.databaseUrl, MIRROR_TABLE_OF[entity as keyof typeof MIRROR_TABLE_OF], connectionId),
        entity,
      ).toBe(count);
    }
  }, 400_000);

  it('sync import <zip> --dry-run prints the preview and applies nothing', async () => {
    const dataset = generateDistrict({ seed: 'sync-cli-import', ...DISTRICT });
    const path = join(dir, 'district.zip');
    await writeOneRosterCsvZip(dataset, { version: '1.2', mode: 'bulk', path });
    const rowsBefore = await sql<{ count: string }>(app.databaseUrl, 'SELECT count(*) FROM roster_people');

    const result = await homeroom(['sync', 'import', path, '--dry-run'], env);
    expect(result.status, result.output).toBe(0);
    const runId = runIdOf(result.output);
    expect(result.output).toContain(`Run ${runId}: succeeded (dry run: nothing applied)`);
    // The file as the operator named it, not the name it is stored under.
    expect(result.output).toContain('Source: OneRoster 1.2 CSV district.zip\n');
    expect(result.output).toMatch(/┌/);
    expect(result.output).toContain('create');
    const peopleRow = result.output.split('\n').find((line) => line.includes("'people'"));
    expect(peopleRow, result.output).toContain(String(dataset.users.length));

    const run = await getRun(app.url, token, runId);
    expect(run).toMatchObject({ state: 'succeeded', dryRun: true, trigger: 'import' });
    expect(run.preview?.['people']?.['create']).toBe(dataset.users.length);
    expect(await sql(app.databaseUrl, 'SELECT count(*) FROM roster_people')).toEqual(rowsBefore);
    expect(await activeCount(app.databaseUrl, 'roster_people', run.connectionId)).toBe(0);
    // The uploaded package is not kept once the dry run settled.
    expect(await sql(app.databaseUrl, 'SELECT count(*)::int AS count FROM sis_import_file_chunks')).toEqual([
      { count: 0 },
    ]);
  }, 400_000);

  it('sync import of a broken package exits non-zero and says why', async () => {
    const path = join(dir, 'broken.zip');
    await writeBrokenOneRosterCsvZip(generateDistrict({ seed: 'sync-cli-broken', ...DISTRICT }), {
      version: '1.2',
      mode: 'bulk',
      breakage: 'missing-manifest',
      path,
    });
    const result = await homeroom(['sync', 'import', path], env);
    expect(result.status, result.output).not.toBe(0);
    expect(result.output).toContain('failed');
    expect(result.output).toContain('SIS_SYNC.CSV_INVALID');
    expect(result.output).toContain('manifest.csv');

    const missing = await homeroom(['sync', 'import', join(dir, 'no-such.zip')], env);
    expect(missing.status).not.toBe(0);
    expect(missing.output).toContain('No such file');
  }, 400_000);

  it('sync import <zip> --connection <id> mirrors into that CSV connection; a REST connection or a pull of a CSV one is refused', async () => {
    const feed = await createCsvConnection(app.url, token, { name: 'CLI charter feed', version: '1.2' });
    const dataset = generateDistrict({ seed: 'sync-cli-feed', ...DISTRICT });
    const path = join(dir, 'feed.zip');
    await writeOneRosterCsvZip(dataset, { version: '1.2', mode: 'bulk', path });

    const result = await homeroom(['sync', 'import', path, '--connection', feed], env);
    expect(result.status, result.output).toBe(0);
    const run = await getRun(app.url, token, runIdOf(result.output));
    expect(run).toMatchObject({ state: 'succeeded', trigger: 'import', connectionId: feed });
    expect(await activeCount(app.databaseUrl, 'roster_people', feed)).toBe(dataset.users.length);

    const runsBefore = await sql(app.databaseUrl, 'SELECT id FROM sis_sync_runs ORDER BY id');
    const intoRest = await homeroom(['sync', 'import', path, '--connection', connectionId], env);
    expect(intoRest.status, intoRest.output).not.toBe(0);
    expect(intoRest.output).toContain('oneroster-csv connections only');
    const pull = await homeroom(['sync', feed, '--full'], env);
    expect(pull.status, pull.output).not.toBe(0);
    expect(pull.output).toContain(`homeroom sync import <zip> --connection ${feed}`);
    expect(await sql(app.databaseUrl, 'SELECT id FROM sis_sync_runs ORDER BY id')).toEqual(runsBefore);
  }, 400_000);

  it('an unknown connection id exits non-zero with a clear message and starts nothing', async () => {
    const runsBefore = await sql(app.databaseUrl, 'SELECT id FROM sis_sync_runs ORDER BY id');
    const unknown = await homeroom(['sync', '00000000-0000-4000-8000-000000000000', '--full'], env);
    expect(unknown.status, unknown.output).not.toBe(0);
    expect(unknown.output).toContain('No SIS connection has that id');

    const malformed = await homeroom(['sync', 'not-a-connection-id'], env);
    expect(malformed.status, malformed.output).not.toBe(0);
    expect(malformed.output).toContain('No SIS connection has that id');
    expect(await sql(app.databaseUrl, 'SELECT id FROM sis_sync_runs ORDER BY id')).toEqual(runsBefore);

    const both = await homeroom(['sync', connectionId, '--full', '--delta'], env);
    expect(both.status).not.toBe(0);
    expect(both.output).toContain('Choose one of --full and --delta');
    const runs = await request(app.url)
      .get(`/api/v1/sis/runs?connectionId=${connectionId}`)
      .set(bearer(token))
      .expect(200);
    expect(runs.body.items).toHaveLength(1);
  }, 400_000);
});
