// The job queue without Redis (pg-boss on PostgreSQL) against BullMQ on Redis, measured back to back in one run:
// enqueue→start latency when the worker is the enqueuing process (woken at once) and when it is another process
// (found by polling), throughput of trivial jobs, the connections the adapter opens, and close() time.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { BullMqJobQueue, PgBossJobQueue, pgBossInstallStatements } from '../dist/libs/queue/index.js';

const ADMIN_URL = process.env.DATABASE_URL_ADMIN || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL_TEST || 'redis://127.0.0.1:6379';
const LATENCY_JOBS = Number(process.env.BENCH_QUEUE_LATENCY_JOBS || 100);
const THROUGHPUT_JOBS = Number(process.env.BENCH_QUEUE_THROUGHPUT_JOBS || 1000);
const CONCURRENCY = 4;
const POLLING_MS = 1000;

const definitions = { 'bench.noop': { attempts: 1, backoffMs: 1000 } };

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function withDatabase(run) {
  const name = `homeroom_test_bench_queue_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    await client.query('BEGIN');
    for (const statement of pgBossInstallStatements()) await client.query(statement);
    await client.query('COMMIT');
    await client.end();
    return await run(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

/** Sequential jobs: time from enqueue() being called to the handler starting. */
async function latency(producer, consumer) {
  const samples = [];
  let resolveStart;
  await consumer.startProcessing(
    new Map([['bench.noop', () => (resolveStart(performance.now()), Promise.resolve())]]),
    CONCURRENCY,
  );
  for (let index = 0; index < LATENCY_JOBS; index += 1) {
    const started = new Promise((resolve) => (resolveStart = resolve));
    const enqueuedAt = performance.now();
    await producer.enqueue('bench.noop', { index });
    samples.push((await started) - enqueuedAt);
  }
  return samples;
}

async function throughput(queue) {
  let done = 0;
  let resolveAll;
  const all = new Promise((resolve) => (resolveAll = resolve));
  queue.onOutcome(() => {
    done += 1;
    if (done === THROUGHPUT_JOBS) resolveAll();
  });
  const started = performance.now();
  for (let index = 0; index < THROUGHPUT_JOBS; index += 1) await queue.enqueue('bench.noop', { index });
  await queue.startProcessing(new Map([['bench.noop', () => Promise.resolve()]]), CONCURRENCY);
  await all;
  return THROUGHPUT_JOBS / ((performance.now() - started) / 1000);
}

function pgBoss(url) {
  return new PgBossJobQueue({ connectionString: url, definitions, supervise: true, pollingIntervalMs: POLLING_MS });
}

function bullMq(prefix) {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new BullMqJobQueue(new Queue('jobs', { connection, prefix }), connection, definitions);
  return {
    queue,
    close: async () => {
      await queue.close();
      connection.disconnect();
    },
  };
}

async function deleteKeys(prefix) {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

async function measurePgBoss() {
  return withDatabase(async (url) => {
    const same = pgBoss(url);
    const local = await latency(same, same);
    const connections = await countConnections(url);
    await same.close();

    const producer = pgBoss(url);
    const worker = pgBoss(url);
    const remote = await latency(producer, worker);
    await Promise.all([producer.close(), worker.close()]);

    const bulk = pgBoss(url);
    const rate = await throughput(bulk);
    const closing = performance.now();
    await bulk.close();
    return { local, remote, rate, connections, closeMs: performance.now() - closing };
  });
}

async function countConnections(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'homeroom-jobs' AND datname = current_database()",
  );
  await client.end();
  return rows[0].n;
}

async function measureBullMq() {
  const prefix = `homeroom-bench-${randomBytes(4).toString('hex')}`;
  try {
    const same = bullMq(prefix);
    const local = await latency(same.queue, same.queue);
    await same.close();
    const producer = bullMq(`${prefix}-remote`);
    const worker = bullMq(`${prefix}-remote`);
    const remote = await latency(producer.queue, worker.queue);
    await Promise.all([producer.close(), worker.close()]);
    const bulk = bullMq(`${prefix}-bulk`);
    const rate = await throughput(bulk.queue);
    const closing = performance.now();
    await bulk.close();
    return { local, remote, rate, closeMs: performance.now() - closing };
  } finally {
    for (const suffix of ['', '-remote', '-bulk']) await deleteKeys(`${prefix}${suffix}`);
  }
}

export async function run() {
  const baseline = await measureBullMq();
  const boss = await measurePgBoss();
  const ms = (value) => value.toFixed(1);
  const rows = [
    ['queue', 'same-process p50/p99 ms', 'other-process p50/p99 ms', `jobs/s (${CONCURRENCY} at once)`, 'close ms'],
    [
      'BullMQ on Redis (baseline)',
      `${ms(percentile(baseline.local, 50))} / ${ms(percentile(baseline.local, 99))}`,
      `${ms(percentile(baseline.remote, 50))} / ${ms(percentile(baseline.remote, 99))}`,
      baseline.rate.toFixed(0),
      ms(baseline.closeMs),
    ],
    [
      'pg-boss on PostgreSQL',
      `${ms(percentile(boss.local, 50))} / ${ms(percentile(boss.local, 99))}`,
      `${ms(percentile(boss.remote, 50))} / ${ms(percentile(boss.remote, 99))}`,
      boss.rate.toFixed(0),
      ms(boss.closeMs),
    ],
  ];
  console.log(
    `${LATENCY_JOBS} sequential jobs for latency, ${THROUGHPUT_JOBS} for throughput; pg-boss polls every ${POLLING_MS} ms`,
  );
  for (const row of rows) console.log(row.map((cell, index) => String(cell).padEnd(index === 0 ? 30 : 28)).join(''));
  console.log(`pg-boss connections open per queue (after use): ${boss.connections}`);
  console.log(`ratio pg-boss ÷ BullMQ throughput: ${(boss.rate / baseline.rate).toFixed(2)}`);
}
