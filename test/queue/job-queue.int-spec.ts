import { randomBytes } from 'node:crypto';
import {
  BullMqJobQueue,
  PgBossJobQueue,
  pgBossInstallStatements,
  type JobDefinitions,
  type JobHandlerFunction,
  type JobQueue,
} from '@app/queue';
import {
  createTestDatabase,
  deleteRedisKeys,
  InMemoryJobQueue,
  testRedisUrl,
  uniqueRedisPrefix,
  type TestDatabase,
} from '@app/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

/**
 * The JobQueue port's contract, run over BullMQ (real Redis, own key prefix), pg-boss (real PostgreSQL, own
 * schema in this file's database) and the in-memory fake used by unit tests. Two queues on the same
 * namespace stand for two processes; closing one and opening another stands for a restart.
 */
const definitions: JobDefinitions = {
  'test.echo': { attempts: 1, backoffMs: 100 },
  'test.flaky': { attempts: 3, backoffMs: 100 },
  'test.broken': { attempts: 3, backoffMs: 100 },
  'test.tick': { attempts: 1, backoffMs: 100 },
  'test.slow': { attempts: 1, backoffMs: 100 },
};

interface Harness {
  queue: JobQueue;
  close(): Promise<void>;
}

interface Adapter {
  label: string;
  /** Jobs outlive the queue object and are shared by every queue opened on the same namespace. */
  durable: boolean;
  namespace(): Promise<{ name: string; cleanup(): Promise<void> }>;
  open(namespace: string): Promise<Harness>;
}

const bullMq: Adapter = {
  label: 'BullMQ on Redis',
  durable: true,
  namespace: () => {
    const prefix = uniqueRedisPrefix('queue');
    return Promise.resolve({ name: prefix, cleanup: () => deleteRedisKeys(prefix) });
  },
  open: (prefix) => {
    const connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    const queue = new BullMqJobQueue(new Queue('jobs', { connection, prefix }), connection, definitions);
    return Promise.resolve({
      queue,
      close: async () => {
        await queue.close();
        connection.disconnect();
      },
    });
  },
};

let database: TestDatabase | undefined;

const pgBoss: Adapter = {
  label: 'pg-boss on PostgreSQL',
  durable: true,
  namespace: async () => {
    database ??= await createTestDatabase('job_queue');
    const schema = `jobs_${randomBytes(4).toString('hex')}`;
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      for (const statement of pgBossInstallStatements(schema)) await client.query(statement);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    return { name: schema, cleanup: () => Promise.resolve() };
  },
  open: (schema) => {
    const queue = new PgBossJobQueue({
      connectionString: database!.url,
      schema,
      definitions,
      supervise: true,
      pollingIntervalMs: 200,
      shutdownGraceMs: 5_000,
    });
    return Promise.resolve({ queue, close: () => queue.close() });
  },
};

const inMemory: Adapter = {
  label: 'in-memory fake',
  durable: false,
  namespace: () => Promise.resolve({ name: 'memory', cleanup: () => Promise.resolve() }),
  open: () => {
    const queue = new InMemoryJobQueue(definitions);
    return Promise.resolve({ queue, close: () => queue.close() });
  },
};

afterAll(async () => {
  await database?.drop();
});

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function handlersOf(entries: Record<string, JobHandlerFunction>): Map<string, JobHandlerFunction> {
  return new Map(Object.entries(entries));
}

describe.each([bullMq, pgBoss, inMemory])('JobQueue contract: $label', (adapter) => {
  const cleanups: (() => Promise<void>)[] = [];
  let namespace = '';

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  async function harness(options: { fresh?: boolean } = {}): Promise<Harness> {
    if (options.fresh !== false || namespace === '') {
      const created = await adapter.namespace();
      namespace = created.name;
      cleanups.push(created.cleanup);
    }
    const opened = await adapter.open(namespace);
    let closed = false;
    cleanups.push(async () => {
      if (!closed) await opened.close();
    });
    return {
      queue: opened.queue,
      close: async () => {
        closed = true;
        await opened.close();
      },
    };
  }

  /** Another queue on the same namespace as the last harness: a second process, or the same after a restart. */
  const sibling = () => harness({ fresh: false });

  it('runs an enqueued job with its payload, its id and attempt 1, and reports it completed', async () => {
    const { queue } = await harness();
    const seen: unknown[] = [];
    const outcomes: string[] = [];
    queue.onOutcome((name, outcome) => outcomes.push(`${name}:${outcome}`));
    await queue.startProcessing(
      handlersOf({ 'test.echo': (payload, context) => (seen.push({ payload, ...context }), Promise.resolve()) }),
      2,
    );
    const id = await queue.enqueue('test.echo', { hello: 'world' });
    await eventually(async () => (outcomes.length > 0 ? true : undefined));
    expect(seen).toEqual([{ payload: { hello: 'world' }, jobId: id, attempt: 1 }]);
    expect(outcomes).toEqual(['test.echo:completed']);
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });
  });

  it('retries a failing job with exponential backoff until it succeeds', async () => {
    const { queue } = await harness();
    const attemptsAt: number[] = [];
    const outcomes: string[] = [];
    queue.onOutcome((name, outcome) => outcomes.push(`${name}:${outcome}`));
    await queue.startProcessing(
      handlersOf({
        'test.flaky': (_payload, context) => {
          attemptsAt.push(performance.now());
          return context.attempt < 3 ? Promise.reject(new Error(`failure ${context.attempt}`)) : Promise.resolve();
        },
      }),
      2,
    );
    await queue.enqueue('test.flaky', { n: 1 });
    await eventually(async () => (outcomes.includes('test.flaky:completed') ? true : undefined));

    expect(attemptsAt).toHaveLength(3);
    // 100 ms, then 200 ms (backoffDelayMs); a little slack for timer granularity.
    expect(attemptsAt[1] - attemptsAt[0]).toBeGreaterThanOrEqual(90);
    expect(attemptsAt[2] - attemptsAt[1]).toBeGreaterThanOrEqual(190);
    expect(outcomes).toEqual(['test.flaky:retrying', 'test.flaky:retrying', 'test.flaky:completed']);
    expect(await queue.listDeadLetters(10)).toEqual([]);
  });

  it('dead-letters a job that used up its attempts, where an operator can list and retry it', async () => {
    const { queue } = await harness();
    let calls = 0;
    let healed = false;
    const outcomes: string[] = [];
    queue.onOutcome((_name, outcome) => outcomes.push(outcome));
    await queue.startProcessing(
      handlersOf({
        'test.broken': () => {
          calls += 1;
          return healed ? Promise.resolve() : Promise.reject(new Error('SIS unreachable'));
        },
      }),
      1,
    );
    const id = await queue.enqueue('test.broken', { connectionId: 'c-1' }, { jobId: 'alert-c-1-webhook' });
    expect(id).toBe('alert-c-1-webhook');

    const [deadLetter] = await eventually(async () => {
      const letters = await queue.listDeadLetters(10);
      return letters.length > 0 ? letters : undefined;
    });
    expect(deadLetter).toMatchObject({
      id,
      name: 'test.broken',
      payload: { connectionId: 'c-1' },
      attemptsMade: 3,
      failedReason: 'SIS unreachable',
    });
    expect(deadLetter.failedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(calls).toBe(3);
    expect(outcomes).toEqual(['retrying', 'retrying', 'dead_lettered']);
    expect(await queue.counts()).toMatchObject({ failed: 1, waiting: 0, active: 0 });

    healed = true;
    expect(await queue.retryDeadLetter(id)).toBe(true);
    await eventually(async () => ((await queue.counts()).failed === 0 && calls === 4 ? true : undefined));
    expect(await queue.retryDeadLetter(id)).toBe(false);
    expect(await queue.retryDeadLetter('no-such-job')).toBe(false);
  });

  it('gives a retried dead letter a fresh set of attempts', async () => {
    const { queue } = await harness();
    const attempts: number[] = [];
    await queue.startProcessing(
      handlersOf({
        'test.broken': (_payload, context) => (attempts.push(context.attempt), Promise.reject(new Error('down'))),
      }),
      1,
    );
    const id = await queue.enqueue('test.broken', {});
    await eventually(async () => ((await queue.counts()).failed === 1 ? true : undefined));
    await queue.retryDeadLetter(id);
    await eventually(async () => (attempts.length === 6 && (await queue.counts()).failed === 1 ? true : undefined));
    expect(attempts).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('refuses a job name that is not in the catalogue', async () => {
    const { queue } = await harness();
    await expect(queue.enqueue('test.unknown', {})).rejects.toThrow(/Unknown job/);
    await expect(queue.schedule('test.unknown', {}, { schedulerId: 'x', cron: '* * * * *' })).rejects.toThrow(
      /Unknown job/,
    );
  });

  it('deduplicates by job id while the first job exists', async () => {
    const { queue } = await harness();
    const first = await queue.enqueue('test.tick', {}, { jobId: 'same', delayMs: 60_000 });
    const second = await queue.enqueue('test.tick', {}, { jobId: 'same', delayMs: 60_000 });
    expect(second).toBe(first);
    expect(await queue.counts()).toMatchObject({ delayed: 1, waiting: 0 });

    const runs: unknown[] = [];
    await queue.startProcessing(handlersOf({ 'test.echo': (payload) => (runs.push(payload), Promise.resolve()) }), 2);
    await queue.enqueue('test.echo', { n: 1 }, { jobId: 'echo-1' });
    await queue.enqueue('test.echo', { n: 2 }, { jobId: 'echo-1' });
    await eventually(async () => (runs.length > 0 ? true : undefined));
    await sleep(300);
    expect(runs).toEqual([{ n: 1 }]);
  });

  it('holds a delayed job until its delay has passed', async () => {
    const { queue } = await harness();
    const ranAt: number[] = [];
    await queue.startProcessing(handlersOf({ 'test.echo': () => (ranAt.push(Date.now()), Promise.resolve()) }), 1);
    const enqueuedAt = Date.now();
    await queue.enqueue('test.echo', {}, { delayMs: 700 });
    expect((await queue.counts()).delayed).toBe(1);
    await eventually(async () => (ranAt.length > 0 ? true : undefined));
    expect(ranAt[0] - enqueuedAt).toBeGreaterThanOrEqual(650);
  });

  it('counts waiting jobs that nothing consumes yet', async () => {
    const { queue } = await harness();
    await queue.enqueue('test.echo', {});
    await queue.enqueue('test.echo', {});
    expect(await queue.counts()).toEqual({ waiting: 2, active: 0, delayed: 0, failed: 0 });
  });

  it('fires a schedule once per tick although two processes registered it', async () => {
    const first = await harness();
    const processes = adapter.durable ? [first, await sibling()] : [first];
    const runs: string[] = [];
    for (const [index, { queue }] of processes.entries()) {
      await queue.startProcessing(
        handlersOf({ 'test.tick': (_payload, context) => (runs.push(`${index}:${context.jobId}`), Promise.resolve()) }),
        1,
      );
      await queue.schedule('test.tick', {}, { schedulerId: 'schedule:test.tick', cron: '* * * * * *' });
    }
    const started = Date.now();
    await sleep(3_300);
    const seconds = (Date.now() - started) / 1000;
    // One run per second in total, not one per process.
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.length).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
  });

  it('replaces a schedule registered again under the same id', async () => {
    const { queue } = await harness();
    const payloads: unknown[] = [];
    await queue.startProcessing(
      handlersOf({ 'test.tick': (payload) => (payloads.push(payload), Promise.resolve()) }),
      1,
    );
    await queue.schedule('test.tick', { version: 1 }, { schedulerId: 'schedule:test.tick', cron: '* * * * * *' });
    await queue.schedule('test.tick', { version: 2 }, { schedulerId: 'schedule:test.tick', cron: '* * * * * *' });
    const started = Date.now();
    await sleep(2_600);
    const seconds = (Date.now() - started) / 1000;
    expect(payloads.length).toBeGreaterThanOrEqual(1);
    expect(payloads.length).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    expect(payloads.every((payload) => (payload as { version: number }).version === 2)).toBe(true);
  });

  it.runIf(adapter.durable)('keeps pending jobs across a restart', async () => {
    const before = await harness();
    await before.queue.enqueue('test.echo', { pending: 'waiting' });
    await before.queue.enqueue('test.echo', { pending: 'delayed' }, { delayMs: 300 });
    await before.close();

    const after = await sibling();
    const seen: unknown[] = [];
    await after.queue.startProcessing(
      handlersOf({ 'test.echo': (payload) => (seen.push(payload), Promise.resolve()) }),
      2,
    );
    await eventually(async () => (seen.length === 2 ? true : undefined));
    expect(seen).toEqual(expect.arrayContaining([{ pending: 'waiting' }, { pending: 'delayed' }]));
  });

  it('lets a running job finish when closed, and does not run it again after a restart', async () => {
    const first = await harness();
    let started = 0;
    let finished = 0;
    const outcomes: string[] = [];
    first.queue.onOutcome((_name, outcome) => outcomes.push(outcome));
    await first.queue.startProcessing(
      handlersOf({
        'test.slow': async () => {
          started += 1;
          await sleep(500);
          finished += 1;
        },
      }),
      1,
    );
    await first.queue.enqueue('test.slow', {});
    await eventually(async () => (started === 1 ? true : undefined));
    const closing = performance.now();
    await first.close();
    const closeMs = performance.now() - closing;
    expect(finished).toBe(1);
    expect(outcomes).toEqual(['completed']);
    expect(closeMs).toBeLessThan(5_000);

    if (!adapter.durable) return;
    const again = await sibling();
    await again.queue.startProcessing(handlersOf({ 'test.slow': () => ((started += 1), Promise.resolve()) }), 1);
    await sleep(600);
    expect(started).toBe(1);
    expect(await again.queue.counts()).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });
  });
});
