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

/** Completed jobs kept for inspection; failed ones are kept until an operator retries or they age out. */
const KEEP_COMPLETED = { count: 1000, age: 24 * 3600 };
const KEEP_DEAD_LETTERS = { age: 30 * 24 * 3600 };

/**
 * Jobs in Redis through BullMQ: any number of API processes enqueue, any number of workers consume, and
 * a job scheduler fires each repeating trigger once per tick however many workers registered it.
 */
export class BullMqJobQueue extends JobQueue {
  readonly backend = 'bullmq' as const;
  private worker: Worker | undefined;
  private readonly listeners: JobOutcomeListener[] = [];

  constructor(
    private readonly queue: Queue,
    private readonly connection: ConnectionOptions,
    private readonly definitions: JobDefinitions,
  ) {
    super();
  }

  async enqueue(name: string, payload: unknown, options: EnqueueOptions = {}): Promise<string> {
    const definition = this.definitionOf(name);
    const job = await this.queue.add(name, payload, {
      jobId: options.jobId,
      delay: options.delayMs,
      attempts: definition.attempts,
      backoff: { type: 'exponential', delay: definition.backoffMs },
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_DEAD_LETTERS,
    });
    return job.id ?? '';
  }

  async schedule(name: string, payload: unknown, options: ScheduleOptions): Promise<void> {
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
    this.worker.on('completed', (job) => this.emit(job, 'completed'));
    this.worker.on('failed', (job) => {
      if (!job) return;
      const attempts = job.opts.attempts ?? 1;
      this.emit(job, job.attemptsMade >= attempts ? 'dead_lettered' : 'retrying');
    });
    await this.worker.waitUntilReady();
  }

  async listDeadLetters(limit: number): Promise<DeadLetterJob[]> {
    const jobs = await this.queue.getFailed(0, Math.max(0, limit - 1));
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
    const job = await this.queue.getJob(jobId);
    if (!job || !(await job.isFailed())) return false;
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return true;
  }

  async counts(): Promise<QueueCounts> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
    return {
      waiting: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0),
      active: counts['active'] ?? 0,
      delayed: counts['delayed'] ?? 0,
      failed: counts['failed'] ?? 0,
    };
  }

  async ping(): Promise<void> {
    await this.queue.waitUntilReady();
    if (this.connection instanceof Redis) await this.connection.ping();
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
