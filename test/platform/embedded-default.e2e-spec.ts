import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  concurrentReads,
  embeddedPostmasterPid,
  processRunning,
  READ_PATHS,
  startServiceProcess as startService,
  stopServiceProcess as stopService,
  type ServiceProcess as Started,
} from '../support/service-process.js';

/**
 * The README's promise: with no DATABASE_URL and no REDIS_URL, the built service starts its own PostgreSQL
 * under HOMEROOM_DATA_DIR, serves logins and concurrent clients, keeps its data across a restart, stops with
 * its server on SIGTERM, and recovers the server a killed process left behind.
 */
describe('embedded default (no DATABASE_URL, no REDIS_URL)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'homeroom-embedded-'));
  let first: Started | undefined;
  let adminEmail = '';
  let adminPassword = '';

  beforeAll(async () => {
    // At info level: the start-up lines (migrations applied, where it listens) are what this suite checks first.
    first = await startService(dataDir, { LOG_LEVEL: 'info' });
  }, 120_000);

  afterAll(async () => {
    if (first) await stopService(first);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs where it listens and where the docs are, in JSON lines without ANSI escapes', async () => {
    const service = first!;
    const port = new URL(service.url).port;
    const lines = service
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; context?: string });
    expect(lines.map((line) => line.msg)).toContain(
      `Listening on http://127.0.0.1:${port}; API docs at http://127.0.0.1:${port}/docs, OpenAPI at http://127.0.0.1:${port}/openapi.json`,
    );
    // The first start applies every migration; MikroORM's migrator lines used to arrive coloured (\u001b[90m).
    expect(lines.some((line) => line.msg?.startsWith('[migrator] Applied'))).toBe(true);
    expect(service.output()).not.toContain('\u001b');
    const docs = await request(service.url).get('/docs/');
    expect(docs.status).toBe(200);
  });

  it('prints a generated administrator password once, logs in with it, and keeps data across a restart', async () => {
    const service = first!;
    const printed = /email:\s*(\S+@\S+)[\s\S]*?password:\s*(\S+)/i.exec(service.output());
    expect(printed, service.output()).not.toBeNull();
    const [, email, password] = printed!;
    adminEmail = email!;
    adminPassword = password!;

    const login = await request(service.url).post('/api/v1/auth/login').send({ email, password });
    expect(login.status).toBe(200);
    const token = login.body.accessToken as string;

    const created = await request(service.url)
      .post('/api/v1/users')
      .set('Authorization', `Bearer ${token}`)
      .send({
        email: 'teacher@district.test',
        displayName: 'Ms. Rivera',
        password: 'a-long-enough-password',
        roles: ['teacher'],
      });
    expect(created.status).toBe(201);

    await stopService(service);
    first = await startService(dataDir);
    expect(first.output()).not.toMatch(/password:/i);

    const again = await request(first.url).post('/api/v1/auth/login').send({ email, password });
    expect(again.status).toBe(200);
    const teacher = await request(first.url)
      .post('/api/v1/auth/login')
      .send({ email: 'teacher@district.test', password: 'a-long-enough-password' });
    expect(teacher.status).toBe(200);
    // Tokens issued before the restart still verify: the signing secret persists in the data directory.
    const me = await request(first.url).get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`);
    expect(me.status).toBe(200);
  }, 180_000);

  it('refuses a second process on the same data directory with a clear message', async () => {
    await expect(startService(dataDir)).rejects.toThrow(/in use by process \d+ \(another Homeroom\)/);
  }, 180_000);

  it('answers 200 concurrent authenticated reads, all with 200', async () => {
    const service = first!;
    const { accessToken } = (
      await request(service.url).post('/api/v1/auth/login').send({ email: adminEmail, password: adminPassword })
    ).body as { accessToken: string };
    const statuses = await concurrentReads(service.url, accessToken, READ_PATHS, 200, 8);
    expect(statuses).toEqual({ 200: 200 });
  }, 120_000);

  it('stops itself and its server within 10 s on SIGTERM', async () => {
    const postmaster = embeddedPostmasterPid(dataDir);
    expect(postmaster).toBeGreaterThan(0);
    const elapsed = await stopService(first!, 'SIGTERM');
    expect(first!.child.exitCode).toBe(0);
    expect(elapsed).toBeLessThan(10_000);
    expect(processRunning(postmaster!)).toBe(false);
    expect(embeddedPostmasterPid(dataDir)).toBeUndefined();
  }, 60_000);

  it('after the process is killed (SIGKILL), the next start takes over the server it left and the data', async () => {
    first = await startService(dataDir);
    const leftover = embeddedPostmasterPid(dataDir)!;
    await stopService(first, 'SIGKILL');
    expect(processRunning(leftover)).toBe(true);

    first = await startService(dataDir);
    expect(processRunning(leftover)).toBe(false);
    expect(embeddedPostmasterPid(dataDir)).not.toBe(leftover);
    const teacher = await request(first.url)
      .post('/api/v1/auth/login')
      .send({ email: 'teacher@district.test', password: 'a-long-enough-password' });
    expect(teacher.status).toBe(200);
  }, 180_000);
});
