import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedRoster } from '../roster/seed-roster.js';
import { createOneRosterConnection } from '../sis-sync/sync-support.js';
import { bearer, login } from '../support/auth.js';
import { freePort, PrivateRedisServer } from '../support/redis-server.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

const SCHEDULER_WAIT_MS = 30_000;

async function timed<T>(call: () => PromiseLike<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await call();
  return { result, ms: performance.now() - started };
}

/**
 * Redis (queue, socket fan-out, rate limits) dies under a running API process and a compiled worker process,
 * then comes back empty: routes that do not need Redis keep answering, those that do fail fast with 503, and
 * the worker puts its job schedules back by itself.
 */
describe('Redis goes away and comes back empty', { timeout: 120_000 }, () => {
  const prefix = `homeroom-test-outage-${randomBytes(4).toString('hex')}`;
  let redis: PrivateRedisServer;
  let api: TestApp;
  let worker: WorkerProcess;
  let token: string;
  let connectionId: string;
  let inspector: Queue;

  const schedulerIds = async (): Promise<string[]> =>
    (await inspector.getJobSchedulers(0, -1, true)).map((scheduler) => scheduler.key).sort();
  const startSync = () =>
    request(api.url).post(`/api/v1/sis/connections/${connectionId}/sync`).set(bearer(token)).send({ mode: 'full' });

  beforeAll(async () => {
    redis = await PrivateRedisServer.start();
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, AUTH_RATE_LIMIT_PER_MINUTE: '1000' };
    api = await bootTestApp({ role: 'api', env });
    worker = await startWorkerProcess({ DATABASE_URL: api.databaseUrl, DATABASE_POOL_MAX: '5', ...env });
    await seedRoster(api.databaseUrl, {
      orgs: [{ sourcedId: 'sch-north', name: 'North High' }],
      people: [{ sourcedId: 'stu-ana', givenName: 'Ana', familyName: 'Lopez', role: 'student', orgs: ['sch-north'] }],
    });
    token = (await login(api.url)).accessToken;
    const closed = await freePort();
    connectionId = await createOneRosterConnection(api.url, token, {
      name: 'Nowhere',
      baseUrl: `http://127.0.0.1:${closed}/ims/oneroster/rostering/v1p2`,
      auth: { type: 'oauth2', tokenUrl: `http://127.0.0.1:${closed}/token`, clientId: 'c', clientSecret: 's' },
    });
    inspector = new Queue('jobs', { connection: { host: '127.0.0.1', port: redis.port }, prefix });
    inspector.on('error', () => undefined);
  }, 90_000);

  afterAll(async () => {
    // Shutting down is not what this suite measures: give the processes their Redis back first.
    if (redis && !redis.running) await redis.restart();
    await inspector?.close();
    // A worker stopped right after Redis came back can hang in BullMQ's close (seen before these changes too).
    await worker?.stop(15_000);
    await api?.close();
    await redis?.stop();
  }, 60_000);

  it('keeps Redis-free routes working, fails queue routes fast with 503, and restores the schedules', async () => {
    const schedules = await schedulerIds();
    expect(schedules.length).toBeGreaterThan(0);
    // Proves the restarted Redis is empty: the schedules it then holds were registered again, not kept.
    const marker = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    await marker.set(`${prefix}:outage-marker`, '1');
    marker.disconnect();
    await request(api.url).get('/health/ready').expect(200);

    await redis.kill();

    const students = await timed(() => request(api.url).get('/api/v1/students').set(bearer(token)));
    expect(students.result.status, JSON.stringify(students.result.body)).toBe(200);
    expect(students.ms).toBeLessThan(1_000);

    // Signing in needs no Redis; argon2 dominates its time on a loaded machine, hence the looser bound.
    const signIn = await timed(() => login(api.url));
    expect(signIn.ms).toBeLessThan(5_000);

    const sync = await timed(() => startSync());
    expect(sync.result.status, JSON.stringify(sync.result.body)).toBe(503);
    expect(sync.result.body).toMatchObject({ status: 503, code: 'QUEUE.UNAVAILABLE' });
    expect(sync.result.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(sync.ms).toBeLessThan(1_000);

    const ready = await request(api.url).get('/health/ready');
    expect(ready.status, JSON.stringify(ready.body)).toBe(503);
    expect(ready.body).toMatchObject({ code: 'HEALTH.NOT_READY', checks: { database: 'up', redis: 'down' } });

    // A refused start leaves no queued run behind to block the next one.
    const again = await startSync();
    expect(again.status, JSON.stringify(again.body)).toBe(503);
    expect(again.body.code).toBe('QUEUE.UNAVAILABLE');

    await redis.restart();
    const restarted = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    expect(await restarted.exists(`${prefix}:outage-marker`)).toBe(0);
    restarted.disconnect();

    const deadline = Date.now() + SCHEDULER_WAIT_MS;
    while ((await schedulerIds()).join() !== schedules.join()) {
      if (Date.now() > deadline) {
        throw new Error(`schedules not restored: ${(await schedulerIds()).join()}\n${worker.output().slice(-3000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    for (;;) {
      const recovered = await request(api.url).get('/health/ready');
      if (recovered.status === 200) break;
      if (Date.now() > deadline) throw new Error(`not ready again: ${JSON.stringify(recovered.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const started = await startSync();
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(worker.child.exitCode).toBeNull();
  });
});
