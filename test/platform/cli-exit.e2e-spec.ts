import { createTestDatabase, deleteRedisKeys, testRedisUrl, uniqueRedisPrefix, type TestDatabase } from '@app/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDistrict, writeOneRosterCsvZip } from '../fakes/oneroster/index.js';
import { runHomeroom } from '../support/cli.js';

/** Long enough for a slow boot and run on a busy machine (2 cores shared by many), far shorter than "never". */
const EXIT_WITHIN_MS = 180_000;

describe('homeroom CLI with Redis configured: every command exits with its status code', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  let prefix: string;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDatabase('cli_exit');
    prefix = uniqueRedisPrefix('cli-exit');
    dir = mkdtempSync(join(tmpdir(), 'homeroom-cli-exit-'));
    env = {
      DATABASE_URL: database.url,
      JWT_SECRET: 'cli-test-secret-that-is-long-enough-0123456789',
      SIS_SECRETS_KEY: 'Y2xpLWV4aXQtdGVzdC1rZXktMzItYnl0ZXMtbG9uZyE=',
      DATABASE_MIGRATE_ON_START: 'false',
      HOMEROOM_DATA_DIR: dir,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: prefix,
    };
  });

  afterAll(async () => {
    await database?.drop();
    if (prefix) await deleteRedisKeys(prefix);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('migrate exits 0', async () => {
    const result = await runHomeroom(['migrate'], env, { timeoutMs: EXIT_WITHIN_MS });
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toMatch(/Applied: /);
  }, 240_000);

  it('users create-admin exits 0, and 1 when the user exists', async () => {
    const args = ['users', 'create-admin', '--email', 'exit@district.test', '--password', 'a-long-enough-passphrase'];
    const created = await runHomeroom(args, env, { timeoutMs: EXIT_WITHIN_MS });
    expect(created.status, created.output).toBe(0);
    const again = await runHomeroom(args, env, { timeoutMs: EXIT_WITHIN_MS });
    expect(again.status, again.output).toBe(1);
  }, 400_000);

  it('sync import exits 0 once the run succeeded', async () => {
    const path = join(dir, 'district.zip');
    await writeOneRosterCsvZip(
      generateDistrict({ seed: 'cli-exit', schools: 1, students: 10, teachers: 2, classes: 2 }),
      {
        version: '1.2',
        mode: 'bulk',
        path,
      },
    );
    const result = await runHomeroom(['sync', 'import', path], env, { timeoutMs: EXIT_WITHIN_MS });
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toMatch(/: succeeded/);
  }, 240_000);

  it('audit verify exits 0 on an intact chain', async () => {
    const result = await runHomeroom(['audit', 'verify'], env, { timeoutMs: EXIT_WITHIN_MS });
    expect(result.status, result.output).toBe(0);
  }, 240_000);

  it('audit export exits 0', async () => {
    const result = await runHomeroom(['audit', 'export', '--out', join(dir, 'bundle')], env, {
      timeoutMs: EXIT_WITHIN_MS,
    });
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toMatch(/Exported/);
  }, 240_000);
});
