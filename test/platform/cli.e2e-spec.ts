import { createTestDatabase, type TestDatabase } from '@app/testing';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../bin/homeroom.js');

function homeroom(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('homeroom CLI', () => {
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase('cli');
    env = {
      DATABASE_URL: database.url,
      JWT_SECRET: 'cli-test-secret-that-is-long-enough-0123456789',
      DATABASE_MIGRATE_ON_START: 'false',
    };
  });
  afterAll(async () => {
    await database.drop();
  });

  it('applies migrations once, then reports the database up to date', () => {
    const first = homeroom(['migrate'], env);
    expect(first.status, first.output).toBe(0);
    expect(first.output).toMatch(/Applied: /);
    const second = homeroom(['migrate'], env);
    expect(second.status, second.output).toBe(0);
    expect(second.output).toContain('The database is up to date.');
  }, 240_000);

  it('creates a district administrator with a generated password printed once', async () => {
    const result = homeroom(
      ['users', 'create-admin', '--email', 'IT-Admin@District.test', '--display-name', 'IT'],
      env,
    );
    expect(result.status, result.output).toBe(0);
    expect(result.output).toMatch(/password/i);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ email: string; roles: string[] }>('SELECT email, roles FROM users');
      expect(rows).toHaveLength(1);
      expect(rows[0].email).toBe('it-admin@district.test');
      expect(JSON.stringify(rows[0].roles)).toContain('district_admin');
    } finally {
      await client.end();
    }
    const again = homeroom(['users', 'create-admin', '--email', 'it-admin@district.test', '--display-name', 'IT'], env);
    expect(again.status).not.toBe(0);
  }, 240_000);

  it('resets a password: every session of that user ends, so old refresh tokens stop working', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string; token_version: number }>(
        `SELECT id, token_version FROM users WHERE email = 'it-admin@district.test'`,
      );
      const user = rows[0];
      await client.query(
        `INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES
           ('00000000-0000-4000-8000-0000000000a1', $1, now(), now() + interval '14 days'),
           ('00000000-0000-4000-8000-0000000000a2', $1, now(), now() + interval '14 days')`,
        [user.id],
      );
      const result = homeroom(
        ['users', 'reset-password', '--email', 'IT-Admin@district.test', '--password', 'a-brand-new-passphrase'],
        env,
      );
      expect(result.status, result.output).toBe(0);
      expect(result.output).not.toContain('a-brand-new-passphrase');
      const sessions = await client.query<{ revoked_at: Date | null }>(
        'SELECT revoked_at FROM sessions WHERE user_id = $1',
        [user.id],
      );
      expect(sessions.rows.map((row) => row.revoked_at)).toEqual([expect.any(Date), expect.any(Date)]);
      const after = await client.query<{ token_version: number }>('SELECT token_version FROM users WHERE id = $1', [
        user.id,
      ]);
      expect(after.rows[0].token_version).toBeGreaterThan(user.token_version);
    } finally {
      await client.end();
    }
    const unknown = homeroom(['users', 'reset-password', '--email', 'nobody@district.test'], env);
    expect(unknown.status).not.toBe(0);
  }, 120_000);

  it('explains an unknown command', () => {
    const result = homeroom(['frobnicate'], env);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/unknown command/i);
  });
});
