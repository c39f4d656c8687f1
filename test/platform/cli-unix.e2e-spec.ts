import { createTestDatabase, type TestDatabase } from '@app/testing';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDistrict, writeOneRosterCsvZip } from '../fakes/oneroster/index.js';
import { runHomeroom } from '../support/cli.js';

/** Nothing listens on port 1: a command that opened the database would fail, not wait. */
const UNREACHABLE_DATABASE = 'postgres://nobody@127.0.0.1:1/homeroom_test_unreachable';

describe('homeroom --help and --version touch nothing', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'homeroom-cli-help-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  // Speed is measured in the report, not asserted here: the proof that nothing booted is that a database nobody
  // listens on and a data directory that does not exist both stay untouched.
  it.each([
    [['--help'], /Usage: homeroom \[options\] \[command\]/],
    [['-h'], /Commands:[\s\S]*runs/],
    [['help', 'runs'], /Usage: homeroom runs/],
    [['sync', '--help'], /Exit status:[\s\S]*2 {2}the run is held/],
    [['runs', 'approve', '--help'], /--reason <text>/],
    [['audit', 'verify', '--help'], /--bundle <dir>/],
    [['--version'], /^\d+\.\d+\.\d+\s*$/],
  ])('homeroom %s exits 0, prints usage, opens no database and writes no data directory', async (args, expected) => {
    const dataDir = join(root, args.join('_').replace(/\W/g, '') || 'none', 'data');
    const result = await runHomeroom(args, {
      DATABASE_URL: UNREACHABLE_DATABASE,
      HOMEROOM_DATA_DIR: dataDir,
      JWT_SECRET: '',
      SIS_SECRETS_KEY: '',
      AUDIT_SIGNING_KEY: '',
      REDIS_URL: '',
    });
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toMatch(expected);
    expect(result.stderr).toBe('');
    expect(existsSync(dataDir), `created ${dataDir}`).toBe(false);
  });

  it('refuses an unknown command or option before booting: status 1, the error on stderr only', async () => {
    const env = { DATABASE_URL: UNREACHABLE_DATABASE, HOMEROOM_DATA_DIR: join(root, 'refused'), REDIS_URL: '' };
    const unknown = await runHomeroom(['frobnicate'], env);
    expect(unknown.status).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const option = await runHomeroom(['runs', 'list', '--colour'], env);
    expect(option.status).toBe(1);
    expect(option.stderr).toMatch(/unknown option '--colour'/);
    expect(existsSync(join(root, 'refused'))).toBe(false);
    expect(readdirSync(root)).not.toContain('refused');
  });
});

describe('homeroom --json: one JSON document on stdout, errors on stderr', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDatabase('cli_json');
    dir = mkdtempSync(join(tmpdir(), 'homeroom-cli-json-'));
    env = {
      DATABASE_URL: database.url,
      JWT_SECRET: 'cli-test-secret-that-is-long-enough-0123456789',
      SIS_SECRETS_KEY: 'Y2xpLWpzb24tdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=',
      DATABASE_MIGRATE_ON_START: 'false',
      HOMEROOM_DATA_DIR: dir,
      REDIS_URL: '',
    };
  });
  afterAll(async () => {
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function json(args: string[]): Promise<Record<string, unknown>> {
    const result = await runHomeroom([...args, '--json'], env);
    expect(result.status, result.output).toBe(0);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  }

  it('migrate, users create-admin, sync import, runs list, audit verify and audit export', async () => {
    const migrated = await json(['migrate']);
    expect((migrated['applied'] as string[]).length).toBeGreaterThan(0);
    expect(await json(['migrate'])).toEqual({ applied: [] });

    const admin = await json(['users', 'create-admin', '--email', 'Json@District.test']);
    expect(admin).toMatchObject({ id: expect.any(String), email: 'json@district.test' });
    expect(admin['generatedPassword']).toEqual(expect.any(String));

    const path = join(dir, 'district.zip');
    const dataset = generateDistrict({ seed: 'cli-json', schools: 1, students: 10, teachers: 2, classes: 2 });
    await writeOneRosterCsvZip(dataset, { version: '1.2', mode: 'bulk', path });
    const run = await json(['sync', 'import', path]);
    expect(run).toMatchObject({ state: 'succeeded', trigger: 'import', dryRun: false, error: null });
    expect((run['counts'] as Record<string, { created: number }>)['people']?.created).toBe(dataset.users.length);

    const listed = await json(['runs', 'list']);
    expect((listed['items'] as { id: string }[]).map((item) => item.id)).toEqual([run['id']]);

    const verified = await json(['audit', 'verify']);
    expect(verified).toMatchObject({ ok: true });

    const exported = await json(['audit', 'export', '--out', join(dir, 'bundle')]);
    expect(exported).toMatchObject({ out: join(dir, 'bundle'), newEntries: expect.any(Number) });
  }, 600_000);

  it('an error leaves stdout empty and says what went wrong on stderr, with status 1', async () => {
    const result = await runHomeroom(['runs', 'show', '00000000-0000-4000-8000-000000000000', '--json'], env);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('SIS_SYNC.RUN_NOT_FOUND');
  }, 120_000);
});
