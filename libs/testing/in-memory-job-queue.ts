import { randomUUID } from 'node:crypto';
import { CronJob } from 'cron';
import {
  backoffDelayMs,
  JobQueue,
  type DeadLetterJob,
  type EnqueueOptions,
  type JobDefinitions,
  type JobHandlerFunction,
  type JobOutcomeListener,
  type QueueCounts,
  type ScheduleOptions,
} from '@app/queue';

interface PendingJob {
  id: string;
  name: string;
  payload: unknown;
  attemptsMade: number;
}

/**
 * A job queue in memory, for unit tests that need jobs to run without a database. Not for production: jobs
 * are lost when the process stops. test/queue/job-queue.int-spec.ts runs it through the same contract suite
 * as the BullMQ and pg-boss adapters, so it cannot drift from them.
 */
export class InMemoryJobQueue extends JobQueue {
  readonly backend = 'in-memory' as const;
  private readonly waiting: PendingJob[] = [];
  private readonly delayed = new Map<string, { job: PendingJob; timer: NodeJS.Timeout }>();
  private readonly deadLetters = new Map<string, DeadLetterJob & { job: PendingJob }>();
  /** Every id ever enqueued: the real adapters keep finished jobs (and so ignore their ids) for a day. */
  private readonly known = new Set<string>();
  private readonly crons = new Map<string, CronJob>();
  private readonly listeners: JobOutcomeListener[] = [];
  private handlers: ReadonlyMap<string, JobHandlerFunction> | undefined;
  private concurrency = 1;
  private active = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly definitions: JobDefinitions) {
    super();
  }

  async enqueue(name: string, payload: unknown, options: EnqueueOptions = {}): Promise<string> {
    this.definitionOf(name);
    const id = options.jobId ?? randomUUID();
    if (this.known.has(id)) return id;
    this.known.add(id);
    const job: PendingJob = { id, name, payload, attemptsMade: 0 };
    if (options.delayMs && options.delayMs > 0) this.delay(job, options.delayMs);
    else this.waiting.push(job);
    this.drain();
    return id;
  }

  async schedule(name: string, payload: unknown, options: ScheduleOptions): Promise<void> {
    this.definitionOf(name);
    void this.crons.get(options.schedulerId)?.stop();
    const cron = CronJob.from({
      cronTime: options.cron,
      timeZone: options.timeZone,
      start: true,
      onTick: () => void this.enqueue(name, payload),
    });
    this.crons.set(options.schedulerId, cron);
  }

  startProcessing(handlers: ReadonlyMap<string, JobHandlerFunction>, concurrency: number): Promise<void> {
    this.handlers = handlers;
    this.concurrency = Math.max(1, concurrency);
    this.drain();
    return Promise.resolve();
  }

  listDeadLetters(limit: number): Promise<DeadLetterJob[]> {
    return Promise.resolve(
      [...this.deadLetters.values()]
        .slice(-limit)
        .reverse()
        .map(({ job: _job, ...deadLetter }) => deadLetter),
    );
  }

  retryDeadLetter(jobId: string): Promise<boolean> {
    const deadLetter = this.deadLetters.get(jobId);
    if (!deadLetter) return Promise.resolve(false);
    this.deadLetters.delete(jobId);
    this.waiting.push({ ...deadLetter.job, attemptsMade: 0 });
    this.drain();
    return Promise.resolve(true);
  }

  counts(): Promise<QueueCounts> {
    return Promise.resolve({
      waiting: this.waiting.length,
      active: this.active,
      delayed: this.delayed.size,
      failed: this.deadLetters.size,
    });
  }

  ping(): Promise<void> {
    return this.closed ? Promise.reject(new Error('The in-memory queue is closed')) : Promise.resolve();
  }

  onOutcome(listener: JobOutcomeListener): void {
    this.listeners.push(listener);
  }

  /** Resolves once nothing is waiting or running (delayed retries excluded). Used by graceful shutdown. */
  whenIdle(): Promise<void> {
    if (this.active === 0 && (this.waiting.length === 0 || !this.handlers)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const cron of this.crons.values()) void cron.stop();
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    await this.whenIdle();
  }

  private definitionOf(name: string) {
    const definition = this.definitions[name];
    if (!definition) throw new Error(`Unknown job "${name}": add it to the job catalogue`);
    return definition;
  }

  private delay(job: PendingJob, delayMs: number): void {
    const timer = setTimeout(() => {
      this.delayed.delete(job.id);
      this.waiting.push(job);
      this.drain();
    }, delayMs);
    timer.unref();
    this.delayed.set(job.id, { job, timer });
  }

  private drain(): void {
    if (!this.handlers || this.closed) return;
    while (this.active < this.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      this.active += 1;
      void this.run(job).finally(() => {
        this.active -= 1;
        this.drain();
        if (this.active === 0 && this.waiting.length === 0) {
          for (const resolve of this.idleWaiters.splice(0)) resolve();
        }
      });
    }
  }

  private async run(job: PendingJob): Promise<void> {
    const definition = this.definitionOf(job.name);
    const handler = this.handlers?.get(job.name);
    const started = performance.now();
    job.attemptsMade += 1;
    try {
      if (!handler) throw new Error(`No handler for job "${job.name}"`);
      await handler(job.payload, { jobId: job.id, attempt: job.attemptsMade });
      this.emit(job.name, 'completed', started);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (job.attemptsMade < definition.attempts && !this.closed) {
        this.delay(job, backoffDelayMs(definition, job.attemptsMade));
        this.emit(job.name, 'retrying', started);
      } else {
        this.deadLetters.set(job.id, {
          id: job.id,
          name: job.name,
          payload: job.payload,
          attemptsMade: job.attemptsMade,
          failedReason: reason,
          failedAt: new Date().toISOString(),
          job,
        });
        this.emit(job.name, 'dead_lettered', started);
      }
    }
  }

  private emit(name: string, outcome: 'completed' | 'retrying' | 'dead_lettered', started: number): void {
    const duration = performance.now() - started;
    for (const listener of this.listeners) listener(name, outcome, duration);
  }
}
