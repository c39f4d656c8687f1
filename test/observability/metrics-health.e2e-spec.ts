import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';

function seriesOf(exposition: string): string[] {
  return exposition.split('\n').filter((line) => line.length > 0 && !line.startsWith('#'));
}

describe('metrics, health and queue operations', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await bootTestApp({ redis: true, env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
  });
  afterAll(async () => {
    await testApp.close();
  });

  it('serves /metrics on the metrics port only', async () => {
    const metrics = await request(testApp.metricsUrl).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    expect(metrics.text).toContain('process_cpu_user_seconds_total');
    expect(metrics.text).toMatch(/jobs_queue_depth\{state="waiting"\} \d+/);
    expect(metrics.text).toContain('websocket_connections');
    for (const line of seriesOf(metrics.text))
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? -?[0-9.e+-]+|NaN|[+-]Inf$/);
    expect((await request(testApp.url).get('/metrics')).status).toBe(404);
    expect((await request(testApp.url).get('/api/v1/metrics')).status).toBe(404);
  });

  it('labels requests by route template, and unknown paths do not grow the series', async () => {
    const admin = await login(testApp.url);
    const me = await request(testApp.url).get('/api/v1/auth/me').set(bearer(admin.accessToken));
    await request(testApp.url).get(`/api/v1/users/${me.body.id}`).set(bearer(admin.accessToken)).expect(200);
    await request(testApp.url).get(`/api/v1/nothing-here-${randomBytes(4).toString('hex')}`);

    const before = await request(testApp.metricsUrl).get('/metrics');
    expect(before.text).toContain('route="/api/v1/users/:id"');
    expect(before.text).toContain('route="unmatched"');
    expect(before.text).not.toContain(me.body.id as string);
    const countBefore = seriesOf(before.text).filter((line) => line.startsWith('http_request_duration_seconds')).length;

    for (let index = 0; index < 500; index += 1) {
      await request(testApp.url).get(`/${randomBytes(6).toString('hex')}/${index}?q=${index}`);
    }
    const after = await request(testApp.metricsUrl).get('/metrics');
    const countAfter = seriesOf(after.text).filter((line) => line.startsWith('http_request_duration_seconds')).length;
    expect(countAfter).toBe(countBefore);
  }, 60_000);

  it('reports liveness and readiness of the database, Redis and the queue', async () => {
    expect((await request(testApp.url).get('/health/live')).body).toEqual({ status: 'ok' });
    const ready = await request(testApp.url).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info).toMatchObject({
      database: { status: 'up' },
      queue: { status: 'up', backend: 'bullmq' },
      redis: { status: 'up' },
    });
  });

  it('shows queue counts and dead letters to operators only', async () => {
    const admin = await login(testApp.url);
    const counts = await request(testApp.url).get('/api/v1/ops/jobs/counts').set(bearer(admin.accessToken));
    expect(counts.status).toBe(200);
    expect(counts.body).toMatchObject({ backend: 'bullmq', failed: 0 });
    const letters = await request(testApp.url).get('/api/v1/ops/jobs/dead-letters').set(bearer(admin.accessToken));
    expect(letters.body).toEqual({ items: [] });
    const retry = await request(testApp.url)
      .post('/api/v1/ops/jobs/dead-letters/no-such-job/retry')
      .set(bearer(admin.accessToken));
    expect(retry.status).toBe(404);
    expect(retry.body.code).toBe('OPS.JOB_NOT_FOUND');

    await request(testApp.url)
      .post('/api/v1/users')
      .set(bearer(admin.accessToken))
      .send({ email: 'teacher@district.test', displayName: 'T', password: 'a-long-enough-password' })
      .expect(201);
    const teacher = await login(testApp.url, 'teacher@district.test', 'a-long-enough-password');
    const forbidden = await request(testApp.url).get('/api/v1/ops/jobs/dead-letters').set(bearer(teacher.accessToken));
    expect(forbidden.status).toBe(403);
  });
});
