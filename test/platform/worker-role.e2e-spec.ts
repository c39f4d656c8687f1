import { JobQueue } from '@app/queue';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login } from '../support/auth.js';
import { bootTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

/** The scaled-out shape: an API process that only enqueues, and a separate worker process that runs jobs. */
describe('api and worker processes on PostgreSQL and Redis', () => {
  let api: TestApp;
  let worker: WorkerProcess;

  beforeAll(async () => {
    api = await bootTestApp({ redis: true, role: 'api' });
    worker = await startWorkerProcess({
      DATABASE_URL: api.databaseUrl,
      REDIS_URL: process.env['REDIS_URL_TEST'] || 'redis://127.0.0.1:6379',
      REDIS_PREFIX: api.redisPrefix!,
    });
  }, 90_000);

  afterAll(async () => {
    await worker?.stop();
    await api.close();
  });

  it('runs a job enqueued by the API process in the worker process', async () => {
    await login(api.url);
    const client = new pg.Client({ connectionString: api.databaseUrl });
    await client.connect();
    try {
      await client.query(
        `UPDATE sessions SET revoked_at = now() - interval '90 days', revoked_reason = 'logout', expires_at = now() - interval '60 days'`,
      );
      const queue = api.app.get(JobQueue);
      expect(queue.backend).toBe('bullmq');
      await queue.enqueue('identity.purge-expired-sessions', { olderThanDays: 30 });
      const deadline = Date.now() + 15_000;
      for (;;) {
        const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM sessions');
        if (rows[0].count === '0') break;
        if (Date.now() > deadline) throw new Error(`the worker did not purge the sessions:\n${worker.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await client.end();
    }
  });

  it('answers liveness and readiness probes on its metrics port (the compose healthcheck)', async () => {
    const metricsUrl = worker.metricsUrl;
    expect(metricsUrl, worker.output()).toBeDefined();
    // The worker says where its probes answer, and its JSON lines carry no ANSI escapes.
    expect(worker.output()).toContain(
      `Metrics on ${metricsUrl}/metrics; health probes at ${metricsUrl}/health/live and ${metricsUrl}/health/ready`,
    );
    expect(worker.output()).not.toContain('\u001b');
    const live = await fetch(`${metricsUrl}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${metricsUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { database: 'up', queue: 'up' } });
    expect((await fetch(`${metricsUrl}/health/other`)).status).toBe(404);
  });

  it('refuses to start a worker without REDIS_URL, with a message saying why', async () => {
    const lone = spawn(process.execPath, [join(import.meta.dirname, '../../dist/src/worker.js')], {
      env: { ...process.env, DATABASE_URL: api.databaseUrl, JWT_SECRET: TEST_JWT_SECRET, REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    lone.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => lone.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toContain('The worker role needs REDIS_URL');
  });
});
