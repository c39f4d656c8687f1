import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

const PROMTOOL = process.env['PROMTOOL'] ?? 'promtool';
const hasPromtool = spawnSync(PROMTOOL, ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasPromtool) {
  console.warn(
    `SKIPPED the promtool scrape checks: ${PROMTOOL} is not installed (apt-get install -y prometheus, or set PROMTOOL)`,
  );
}

/** `promtool check metrics` on a scrape: its exit code and everything it printed (lint problems included). */
function promtoolCheck(exposition: string): { status: number | null; output: string } {
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/** The value of one series (exact name and label set as exposed), or undefined when it is not there. */
function valueOf(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * Every scrape passes `promtool check metrics`, on the API and on a separate worker, and both report the
 * operational gauges the database holds (not what the process happened to see since it started).
 */
describe.skipIf(!hasPromtool)('scrapes an operator can alert on (promtool)', () => {
  let api: TestApp;
  let worker: WorkerProcess | undefined;
  let workerMetricsUrl = '';
  let db: pg.Client;

  async function startWorker(): Promise<void> {
    worker = await startWorkerProcess({
      DATABASE_URL: api.databaseUrl,
      REDIS_URL: process.env['REDIS_URL_TEST'] || 'redis://127.0.0.1:6379',
      REDIS_PREFIX: api.redisPrefix!,
      METRICS_STATUS_CACHE_SECONDS: '0',
    });
    workerMetricsUrl = worker.metricsUrl;
  }

  async function stopWorker(): Promise<void> {
    const stopping = worker;
    worker = undefined;
    await stopping?.stop();
  }

  beforeAll(async () => {
    api = await bootTestApp({ redis: true, role: 'api', env: { METRICS_STATUS_CACHE_SECONDS: '0' } });
    db = new pg.Client({ connectionString: api.databaseUrl });
    await db.connect();
    await startWorker();
  }, 120_000);

  afterAll(async () => {
    await stopWorker();
    await db?.end();
    await api?.close();
  });

  it('passes promtool check metrics on the API and on the worker', async () => {
    const fromApi = await request(api.metricsUrl).get('/metrics').expect(200);
    expect(promtoolCheck(fromApi.text)).toEqual({ status: 0, output: '' });
    const fromWorker = await request(workerMetricsUrl).get('/metrics').expect(200);
    expect(promtoolCheck(fromWorker.text)).toEqual({ status: 0, output: '' });

    // The shipped alert rules and dashboard name only metrics a real scrape has (a renamed metric would leave
    // an alert that can never fire).
    const exported = new Set(
      `${fromApi.text}\n${fromWorker.text}`
        .split('\n')
        .filter((line) => line.startsWith('# TYPE '))
        .flatMap((line) => {
          const [, , name, type] = line.split(' ');
          return type === 'histogram' ? [name, `${name}_bucket`, `${name}_count`, `${name}_sum`] : [name];
        }),
    );
    for (const file of ['prometheus/alerts.yml', 'grafana/dashboards/homeroom.json']) {
      const text = readFileSync(join(import.meta.dirname, '../../docker', file), 'utf8');
      const named = new Set(text.match(/\b(?:homeroom|http|audit|sis|jobs|process|nodejs)_[a-z0-9_]+/g));
      expect(
        [...named].filter((name) => !exported.has(name)),
        file,
      ).toEqual([]);
    }
  });

  it('reports sync, run and audit state from the database in every process, across a worker restart', async () => {
    const admin = await login(api.url);
    const created = await request(api.url)
      .post('/api/v1/sis/connections')
      .set(bearer(admin.accessToken))
      .send({
        name: 'Metrics district',
        provider: 'oneroster',
        version: '1.2',
        baseUrl: 'https://sis.district.test/ims/oneroster/rostering/v1p2',
        auth: { type: 'oauth2', tokenUrl: 'https://sis.district.test/oauth2/token', clientId: 'c', clientSecret: 's' },
      })
      .expect(201);
    const connectionId = (created.body as { id: string }).id;
    const finishedAt = new Date('2026-12-01T06:00:00Z');
    const heldSince = new Date('2026-12-02T07:30:00Z');
    await db.query(
      `INSERT INTO sis_sync_runs (id, connection_id, mode, trigger, state, created_at, started_at, finished_at, updated_at)
       VALUES ($1, $2, 'full', 'manual', 'succeeded', $3, $3, $3, $3),
              ($4, $2, 'full', 'manual', 'failed', $5, $5, $5, $5),
              ($6, $2, 'full', 'manual', 'held', $7, $7, NULL, $7)`,
      [randomUUID(), connectionId, finishedAt, randomUUID(), new Date('2026-12-02T06:00:00Z'), randomUUID(), heldSince],
    );

    await stopWorker();
    await startWorker();
    for (const url of [api.metricsUrl, workerMetricsUrl]) {
      const scrape = (await request(url).get('/metrics').expect(200)).text;
      const connection = `{connection="${connectionId}"}`;
      expect(valueOf(scrape, `homeroom_sis_connection_last_success_timestamp_seconds${connection}`)).toBe(
        finishedAt.getTime() / 1000,
      );
      expect(valueOf(scrape, `homeroom_sis_connection_consecutive_failures${connection}`)).toBe(1);
      expect(valueOf(scrape, 'homeroom_sis_runs{state="held"}')).toBe(1);
      expect(valueOf(scrape, 'homeroom_sis_runs{state="running"}')).toBe(0);
      expect(valueOf(scrape, 'homeroom_sis_oldest_run_timestamp_seconds{state="held"}')).toBe(
        heldSince.getTime() / 1000,
      );
      expect(valueOf(scrape, 'homeroom_jobs_dead_letters')).toBe(0);
      // The worker signs a checkpoint at start: every process sees its age, not only the one that signed it.
      const age = valueOf(scrape, 'homeroom_audit_checkpoint_age_seconds');
      expect(age).toBeGreaterThan(0);
      expect(age).toBeLessThan(600);
      expect(promtoolCheck(scrape)).toEqual({ status: 0, output: '' });
    }
  }, 120_000);
});
