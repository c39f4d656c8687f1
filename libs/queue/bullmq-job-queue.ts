import { Logger } from '@nestjs/common';
import { Queue, Worker, type Job, type ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import {
  JobQueue,
  type DeadLetterJob,
  type EnqueueOptions,
  type JobDefinitions,
  type JobHandlerFunction,
  type JobOutcomeListener,
  type QueueCounts,
  type ScheduleOptions,
} from './job-queue.port.js';
import { QueueUnavailableError } from './queue-unavailable.error.js';

/** Completed jobs kept for inspection; failed ones are kept until an operator retries or they age out. */
const KEEP_COMPLETED = { count: 1000, age: 24 * 3600 };
const KEEP_DEAD_LETTERS = { age: 30 * 24 * 3600 };
/**
 * How long a call on the request path (enqueue, counts, dead letters, ping) may wait for Redis. The shared
 * connection queues commands while Redis is away (workers need that), so without a bound a request would wait
 * for Redis to come back.
 */
const REQUEST_PATH_TIMEOUT_MS = 1_000;

export interface BullMqJobQueueOptions {
  /**
   * Enqueue refuses at once while Redis is away (API processes: a request must not wait). Otherwise an enqueue
   * waits for the reconnect, as a worker's own follow-up jobs should. Reads for operators always refuse at once.
   */
  failFastEnqueue: boolean;
}

interface RememberedSchedule {
  name: string;
  payload: unknown;
  options: ScheduleOptions;
}

/**
 * Jobs in Redis through BullMQ: any number of API processes enqueue, any number of workers consume, and
 * a job scheduler fires each repeating trigger once per tick however many workers registered it.
 */
export class BullMqJobQueue extends JobQueue {
  readonly backend = 'bullmq' as const;
  private worker: Worker | undefined;
  private readonly listeners: JobOutcomeListener[] = [];
  private readonly logger = new Logger('JobQueue');
  /** Every schedule this process registered, to put back when Redis returns without them (restarted empty). */
  private readonly schedules = new Map<string, RememberedSchedule>();

  constructor(
    private readonly queue: Queue,
    private readonly connection: ConnectionOptions,
    private readonly definitions: JobDefinitions,
    private readonly options: BullMqJobQueueOptions = { failFastEnqueue: false },
  ) {
    super();
    // ioredis says `ready` again after every reconnect; upserting a schedule is idempotent.
    if (connection instanceof Redis) connection.on('ready', () => void this.restoreSchedules());
    let down = false;
    queue.on('error', (error) => {
      if (down) return;
      down = true;
      this.logger.warn({ err: error }, 'Redis is unavailable: jobs cannot be queued until it is back');
    });
    if (connection instanceof Redis) connection.on('ready', () => (down = false));
  }

  async enqueue(name: string, payload: unknown, options: EnqueueOptions = {}): Promise<string> {
    const definition = this.definitionOf(name);
    const add = () =>
      this.queue.add(name, payload, {
        jobId: options.jobId,
        delay: options.delayMs,
        attempts: definition.attempts,
        backoff: { type: 'exponential', delay: definition.backoffMs },
        removeOnComplete: KEEP_COMPLETED,
        removeOnFail: KEEP_DEAD_LETTERS,
      });
    const job = this.options.failFastEnqueue ? await this.whileAvailable(add) : await add();
    return job.id ?? '';
  }

  async schedule(name: string, payload: unknown, options: ScheduleOptions): Promise<void> {
    this.schedules.set(options.schedulerId, { name, payload, options });
    await this.upsertSchedule({ name, payload, options });
  }

  async startProcessing(handlers: ReadonlyMap<string, JobHandlerFunction>, concurrency: number): Promise<void> {
    if (this.worker) return;
    this.worker = new Worker(
      this.queue.name,
      async (job: Job) => {
        const handler = handlers.get(job.name);
        if (!handler) throw new Error(`No handler for job "${job.name}"`);
        await handler(job.data, { jobId: job.id ?? '', attempt: job.attemptsMade + 1 });
      },
      { connection: this.connection, prefix: this.queue.opts.prefix, concurrency: Math.max(1, concurrency) },
    );
    // Its connection errors are the queue's (reported once per outage there); the worker reconnects by itself.
    this.worker.on('error', () => undefined);
    this.worker.on('completed', (job) => this.emit(job, 'completed'));
    this.worker.on('failed', (job) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      this.emit(job, job.attemptsMade >= attempts ? 'dead_lettered' : 'retrying');
    });
    await this.worker.waitUntilReady();
  }

  async listDeadLetters(limit: number): Promise<DeadLetterJob[]> {
    const jobs = await this.whileAvailable(() => this.queue.getFailed(0, Math.max(0, limit - 1)));
    return jobs.map((job) => ({
      id: job.id ?? '',
      name: job.name,
      payload: job.data as unknown,
      attemptsMade: job.attemptsMade,
      failedReason: job.failedReason,
      failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    }));
  }

  async retryDeadLetter(jobId: string): Promise<boolean> {
    return this.whileAvailable(async () => {
      const job = await this.queue.getJob(jobId);
      if (!job || !(await job.isFailed())) return false;
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return true;
    });
  }

  async counts(): Promise<QueueCounts> {
    const counts = await this.whileAvailable(() =>
      this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized'),
    );
    return {
      waiting: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0),
      active: counts['active'] ?? 0,
      delayed: counts['delayed'] ?? 0,
      failed: counts['failed'] ?? 0,
    };
  }

  async ping(): Promise<void> {
    await this.whileAvailable(async () => {
      await this.queue.waitUntilReady();
      if (this.connection instanceof Redis) await this.connection.ping();
    });
  }

  onOutcome(listener: JobOutcomeListener): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    // BullMQ leaves a connection it was handed open; this one is ours, and an open socket keeps the process alive.
    if (this.connection instanceof Redis) this.connection.disconnect();
  }

  private async restoreSchedules(): Promise<void> {
    if (this.schedules.size === 0) return;
    try {
      for (const schedule of this.schedules.values()) await this.upsertSchedule(schedule);
      this.logger.log(`Redis reconnected: ${this.schedules.size} job schedule(s) registered again`);
    } catch (error) {
      // Redis went away again; the next `ready` tries again.
      this.logger.warn({ err: error }, 'Could not register the job schedules again after a reconnect');
    }
  }

  private async upsertSchedule({ name, payload, options }: RememberedSchedule): Promise<void> {
    const definition = this.definitionOf(name);
    await this.queue.upsertJobScheduler(
      options.schedulerId,
      { pattern: options.cron, tz: options.timeZone },
      {
        name,
        data: payload,
        opts: {
          attempts: definition.attempts,
          backoff: { type: 'exponential', delay: definition.backoffMs },
          removeOnComplete: KEEP_COMPLETED,
          removeOnFail: KEEP_DEAD_LETTERS,
        },
      },
    );
  }

  /**
   * Runs a request-path operation only while Redis is connected, and gives up after a second: the caller gets
   * QUEUE.UNAVAILABLE at once instead of waiting for the outage to end. A timed-out operation may still complete
   * later (ioredis keeps the command queued), which job ids make harmless for enqueues that set one.
   */
  private async whileAvailable<T>(operation: () => Promise<T>): Promise<T> {
    if (this.connection instanceof Redis && this.connection.status !== 'ready') throw new QueueUnavailableError();
    const running = operation();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new QueueUnavailableError()), REQUEST_PATH_TIMEOUT_MS);
    });
    running.catch(() => undefined);
    try {
      return await Promise.race([running, timeout]);
    } catch (error) {
      if (error instanceof QueueUnavailableError || !(this.connection instanceof Redis)) throw error;
      // The connection dropped while the command was in flight.
      if (this.connection.status !== 'ready') throw new QueueUnavailableError();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private definitionOf(name: string) {
    const definition = this.definitions[name];
    if (!definition) throw new Error(`Unknown job "${name}": add it to the job catalogue`);
    return definition;
  }

  private emit(job: Job, outcome: 'completed' | 'retrying' | 'dead_lettered'): void {
    const duration = job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : 0;
    for (const listener of this.listeners) listener(job.name, outcome, duration);
  }
}
