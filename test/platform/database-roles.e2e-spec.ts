import { adminDatabaseUrl, createTestDatabase, type TestDatabase } from '@app/testing';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app.js';

const PRODUCTION_SECRETS = {
  NODE_ENV: 'production',
  SIS_SECRETS_KEY: randomBytes(32).toString('base64'),
  AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
};

/**
 * Production with two PostgreSQL roles: the owner runs the migrations (DATABASE_MIGRATION_URL), the service
 * connects as a role that owns nothing (DATABASE_URL). Connected as the owner, the service refuses to start.
 */
describe('database roles in production', () => {
  const suffix = randomBytes(4).toString('hex');
  const ownerRole = `homeroom_test_owner_${suffix}`;
  const runtimeRole = `homeroom_test_app_${suffix}`;
  let admin: pg.Client;
  let database: TestDatabase;
  let ownerUrl: string;
  let api: TestApp;

  const urlFor = (role: string): string => {
    const url = new URL(database.url);
    url.username = role;
    return url.toString();
  };

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: adminDatabaseUrl() });
    await admin.connect();
    for (const role of [ownerRole, runtimeRole]) {
      await admin.query(`CREATE ROLE "${role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    }
    database = await createTestDatabase('roles');
    await admin.query(`ALTER DATABASE "${database.name}" OWNER TO "${ownerRole}"`);
    ownerUrl = urlFor(ownerRole);
    api = await bootTestApp({
      databaseUrl: urlFor(runtimeRole),
      env: { ...PRODUCTION_SECRETS, DATABASE_MIGRATION_URL: ownerUrl },
    });
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await database?.drop();
    for (const role of [ownerRole, runtimeRole]) await admin?.query(`DROP ROLE IF EXISTS "${role}"`);
    await admin?.end();
  });

  it('runs as the role that owns nothing: a login and an audited read store their entry', async () => {
    const { accessToken } = await login(api.url);
    const response = await request(api.url).get('/api/v1/students').set(bearer(accessToken));
    expect(response.status).toBe(200);
    const client = new pg.Client({ connectionString: ownerUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ action: string; outcome: string }>(
        "SELECT action, outcome FROM audit_event_payloads WHERE action = 'student.list'",
      );
      expect(rows).toEqual([{ action: 'student.list', outcome: 'allowed' }]);
      const owners = await client.query<{ owner: string }>(
        "SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = 'public'",
      );
      expect(owners.rows).toEqual([{ owner: ownerRole }]);
    } finally {
      await client.end();
    }
  });

  it('runs jobs through pg-boss as that role, on the queue tables the owner installed', async () => {
    const client = new pg.Client({ connectionString: ownerUrl });
    await client.connect();
    try {
      // The worker role enqueues its run-on-start jobs at boot; they complete through the runtime role.
      const deadline = Date.now() + 30_000;
      let completed: { name: string }[] = [];
      while (Date.now() < deadline) {
        ({ rows: completed } = await client.query<{ name: string }>(
          "SELECT data->>'name' AS name FROM pgboss.job WHERE state = 'completed' ORDER BY name",
        ));
        if (completed.length >= 3) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(completed.map(({ name }) => name)).toEqual(
        expect.arrayContaining(['audit.record-sync-runs', 'audit.sign-checkpoint', 'sis-sync.recover-stalled-runs']),
      );
      const owners = await client.query<{ owner: string }>(
        "SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = 'pgboss'",
      );
      expect(owners.rows).toEqual([{ owner: ownerRole }]);
    } finally {
      await client.end();
    }
  });

  it('refuses to start as the owner of the audit tables, with a message naming the fix', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'homeroom-test-'));
    try {
      const service = spawn(process.execPath, [join(import.meta.dirname, '../../dist/src/main.js')], {
        env: {
          ...process.env,
          ...PRODUCTION_SECRETS,
          LOG_LEVEL: 'silent',
          DATABASE_URL: ownerUrl,
          DATABASE_MIGRATION_URL: '',
          DATABASE_MIGRATE_ON_START: 'false',
          REDIS_URL: '',
          JWT_SECRET: TEST_JWT_SECRET,
          HOST: '127.0.0.1',
          PORT: '0',
          METRICS_HOST: '127.0.0.1',
          METRICS_PORT: '0',
          HOMEROOM_DATA_DIR: dataDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      service.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      service.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      // A service that started anyway is stopped, and the test fails on its exit code (a loaded machine boots slowly).
      const started = setTimeout(() => service.kill('SIGKILL'), 60_000);
      const code = await new Promise<number | null>((resolve) => service.once('exit', resolve));
      clearTimeout(started);
      expect(code, output).toBe(1);
      // The start-up failure is one JSON line: the message is its `msg`.
      expect(output.replaceAll('\\"', '"')).toContain(
        `Refusing to start in production: the database role "${ownerRole}" (DATABASE_URL) owns audit_checkpoints, ` +
          'audit_disclosures, audit_event_payloads, audit_events, audit_purged_events and',
      );
      expect(output).toContain('run migrations as the owner with DATABASE_MIGRATION_URL');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
