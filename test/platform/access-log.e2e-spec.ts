import { createTestDatabase, type TestDatabase } from '@app/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, TEST_JWT_SECRET } from '../support/test-app.js';

/** The built API process, as operators run it: its stdout is what a log collector ingests. */
const entrypoint = join(import.meta.dirname, '../../dist/src/main.js');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

type LogLine = Record<string, unknown> & { raw: string };

function jsonLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((raw) => ({ ...(JSON.parse(raw) as Record<string, unknown>), raw }));
}

async function waitFor<T>(what: string, probe: () => T | undefined, output: () => string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} in the output:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('access log of the API process', () => {
  let database: TestDatabase;
  let dataDir: string;
  let child: ChildProcess;
  let output = '';
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase('access_log');
    dataDir = mkdtempSync(join(tmpdir(), 'homeroom-log-'));
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env['REDIS_URL'];
    Object.assign(env, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(await freePort()),
      DATABASE_URL: database.url,
      JWT_SECRET: TEST_JWT_SECRET,
      HOMEROOM_DATA_DIR: dataDir,
      HOMEROOM_ADMIN_EMAIL: ADMIN_EMAIL,
      HOMEROOM_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    child = spawn(process.execPath, [entrypoint], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the API exited early:\n${output}`);
      const ready = await fetch(`${url}/health/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`the API did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, 90_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      await new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      });
    }
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs method, route template, status, duration, user id and request id, and no headers', async () => {
    const login = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'session=should-not-be-logged' },
      body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const me = (await (
      await fetch(`${url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } })
    ).json()) as { id: string };
    const response = await fetch(`${url}/api/v1/users/${me.id}?q=Jane`, {
      headers: { authorization: `Bearer ${accessToken}`, 'x-request-id': 'access-log-trace-0001' },
    });
    expect(response.status).toBe(200);

    const line = await waitFor(
      'access log line',
      () => jsonLines(output).find((entry) => entry['reqId'] === 'access-log-trace-0001'),
      () => output,
    );
    expect(line).toMatchObject({
      level: 30,
      method: 'GET',
      route: '/api/v1/users/:id',
      path: `/api/v1/users/${me.id}`,
      status: 200,
      userId: me.id,
      reqId: 'access-log-trace-0001',
      msg: 'request completed',
    });
    expect(typeof line['responseTime']).toBe('number');
    // Neither request nor response headers (the bulk of the old 1.35 KB line: static security headers).
    expect(line.raw).not.toMatch(/headers|content-security-policy|authorization|Bearer|user-agent/i);
    expect(line.raw).not.toContain('q=Jane');
    expect(Buffer.byteLength(line.raw)).toBeLessThan(400);

    const loginLine = jsonLines(output).find(
      (entry) => entry['route'] === '/api/v1/auth/login' && entry['msg'] === 'request completed',
    );
    expect(loginLine).toMatchObject({ method: 'POST', status: 200, userId: null });
    expect(loginLine!.raw).not.toContain('should-not-be-logged');
  });

  it('logs a request that matched no route with its status and no template', async () => {
    const response = await fetch(`${url}/api/v1/no-such-route`, { headers: { 'x-request-id': 'access-log-404-0001' } });
    expect(response.status).toBe(404);
    const line = await waitFor(
      'access log line',
      () => jsonLines(output).find((entry) => entry['reqId'] === 'access-log-404-0001'),
      () => output,
    );
    expect(line).toMatchObject({
      method: 'GET',
      route: null,
      path: '/api/v1/no-such-route',
      status: 404,
      userId: null,
    });
  });

  it('prints a start-up failure (invalid configuration) as one JSON line and exits 1', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: 'not-a-port', LOG_LEVEL: 'info' };
    delete env['DATABASE_URL'];
    const failing = spawn(process.execPath, [entrypoint], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let failed = '';
    failing.stdout.on('data', (chunk: Buffer) => (failed += chunk.toString()));
    failing.stderr.on('data', (chunk: Buffer) => (failed += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => failing.once('exit', resolve));
    expect(code).toBe(1);
    const lines = failed.trim().split('\n');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 60, msg: expect.stringContaining('PORT') as unknown });
    expect(typeof entry['time']).toBe('number');
  });
});
