import {
  BullMqJobQueue,
  InProcessJobQueue,
  type JobDefinitions,
  type JobHandlerFunction,
  type JobQueue,
} from '@app/queue';
import { deleteRedisKeys, testRedisUrl, uniqueRedisPrefix } from '@app/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';

const definitions: JobDefinitions = {
  'test.flaky': { attempts: 3, backoffMs: 100 },
  'test.broken': { attempts: 3, backoffMs: 100 },
  'test.tick': { attempts: 1, backoffMs: 100 },
};

interface Harness {
  queue: JobQueue;
  close(): Promise<void>;
}

async function bullMq(prefix: string): Promise<Harness> {
  const connection = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
  const queue = new BullMqJobQueue(new Queue('jobs', { connection, prefix }), connection, definitions);
  return {
    queue,
    close: async () => {
      await queue.close();
      connection.disconnect();
    },
  };
}

function inProcess(): Promise<Harness> {
  const queue = new InProcessJobQueue(definitions);
  return Promise.resolve({ queue, close: () => queue.close() });
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const adapters: [string, (prefix: string) => Promise<Harness>][] = [
  ['BullMQ on Redis', bullMq],
  ['in-process', () => inProcess()],
];

describe.each(adapters)('JobQueue: %s', (_label, create) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function harness(): Promise<Harness> {
    const prefix = uniqueRedisPrefix('queue');
    const created = await create(prefix);
    cleanups.push(() => deleteRedisKeys(prefix));
    cleanups.push(() => created.close());
    return created;
  }

  it('retries a failing job with exponential backoff until it succeeds', async () => {
    const { queue } = await harness();
    const attemptsAt: number[] = [];
    const handlers = new Map<string, JobHandlerFunction>([
      [
        'test.flaky',
        (_payload, context) => {
          attemptsAt.push(performance.now());
          if (context.attempt < 3) return Promise.reject(new Error(`failure ${context.attempt}`));
          return Promise.resolve();
        },
      ],
    ]);
    const outcomes: string[] = [];
    queue.onOutcome((name, outcome) => outcomes.push(`${name}:${outcome}`));
    await queue.startProcessing(handlers, 2);
    await queue.enqueue('test.flaky', { n: 1 });
    await eventually(async () => (outcomes.includes('test.flaky:completed') ? true : undefined));

    expect(attemptsAt).toHaveLength(3);
    const firstGap = attemptsAt[1] - attemptsAt[0];
    const secondGap = attemptsAt[2] - attemptsAt[1];
    expect(firstGap).toBeGreaterThanOrEqual(90);
    expect(secondGap).toBeGreaterThanOrEqual(190);
    expect(outcomes).toEqual(['test.flaky:retrying', 'test.flaky:retrying', 'test.flaky:completed']);
    expect((await queue.listDeadLetters(10)).length).toBe(0);
  });

  it('moves a job that used up its attempts to the dead-letter state, where an operator can retry it', async () => {
    const { queue } = await harness();
    let calls = 0;
    let healed = false;
    await queue.startProcessing(
      new Map<string, JobHandlerFunction>([
        [
          'test.broken',
          () => {
            calls += 1;
            return healed ? Promise.resolve() : Promise.reject(new Error('SIS unreachable'));
          },
        ],
      ]),
      1,
    );
    const id = await queue.enqueue('test.broken', { connectionId: 'c-1' });

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
    expect(calls).toBe(3);
    expect((await queue.counts()).failed).toBe(1);

    healed = true;
    expect(await queue.retryDeadLetter(id)).toBe(true);
    await eventually(async () => ((await queue.counts()).failed === 0 && calls === 4 ? true : undefined));
    expect(await queue.retryDeadLetter('no-such-job')).toBe(false);
  });

  it('refuses a job name that is not in the catalogue', async () => {
    const { queue } = await harness();
    await expect(queue.enqueue('test.unknown', {})).rejects.toThrow(/not in|Unknown job/);
  });

  it('deduplicates by job id', async () => {
    const { queue } = await harness();
    const first = await queue.enqueue('test.tick', {}, { jobId: 'same', delayMs: 60_000 });
    const second = await queue.enqueue('test.tick', {}, { jobId: 'same', delayMs: 60_000 });
    expect(second).toBe(first);
    expect((await queue.counts()).delayed).toBe(1);
  });
});

describe('BullMQ job schedulers', () => {
  it('fire once per tick however many workers register the same schedule', async () => {
    const prefix = uniqueRedisPrefix('sched');
    const workers = await Promise.all([bullMq(prefix), bullMq(prefix), bullMq(prefix)]);
    const runs: number[] = [];
    try {
      for (const [index, { queue }] of workers.entries()) {
        await queue.startProcessing(
          new Map<string, JobHandlerFunction>([['test.tick', () => (runs.push(index), Promise.resolve())]]),
          1,
        );
        await queue.schedule('test.tick', {}, { schedulerId: 'schedule:test.tick', cron: '* * * * * *' });
      }
      const started = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 3_300));
      const seconds = (Date.now() - started) / 1000;
      // One run per second in total, not one per worker.
      expect(runs.length).toBeGreaterThanOrEqual(2);
      expect(runs.length).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    } finally {
      for (const { close } of workers) await close();
      await deleteRedisKeys(prefix);
    }
  });
});
