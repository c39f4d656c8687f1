import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The README's promise: with no DATABASE_URL and no REDIS_URL, the built service starts on embedded PGlite
 * under HOMEROOM_DATA_DIR, serves logins, and keeps its data across a restart.
 */
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

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
}

async function startService(dataDir: string, extraEnv: Record<string, string> = {}): Promise<Started> {
  const port = await freePort();
  const metricsPort = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  delete env['DATABASE_URL'];
  delete env['REDIS_URL'];
  delete env['JWT_SECRET'];
  delete env['HOMEROOM_ADMIN_EMAIL'];
  delete env['HOMEROOM_ADMIN_PASSWORD'];
  Object.assign(env, {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
    HOMEROOM_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ...extraEnv,
  });
  const child = spawn(process.execPath, [entrypoint], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited early:\n${output}`);
    try {
      const response = await fetch(`${url}/health/ready`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`service not ready in time:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { child, output: () => output, url };
}

function stopService(service: Started): Promise<void> {
  return new Promise((resolve) => {
    if (service.child.exitCode !== null) return resolve();
    service.child.once('exit', () => resolve());
    service.child.kill('SIGTERM');
  });
}

describe('embedded default (no DATABASE_URL, no REDIS_URL)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'homeroom-embedded-'));
  let first: Started | undefined;

  beforeAll(async () => {
    first = await startService(dataDir);
  }, 120_000);

  afterAll(async () => {
    if (first) await stopService(first);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints a generated administrator password once, logs in with it, and keeps data across a restart', async () => {
    const service = first!;
    const printed = /email:\s*(\S+@\S+)[\s\S]*?password:\s*(\S+)/i.exec(service.output());
    expect(printed, service.output()).not.toBeNull();
    const [, email, password] = printed!;

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
    await expect(startService(dataDir)).rejects.toThrow(/in use by process/);
  }, 60_000);
});
