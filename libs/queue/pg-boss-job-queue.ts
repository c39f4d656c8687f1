import { isUuid } from '@app/ddd';
import { createHash, randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { CronTime } from 'cron';
import pg from 'pg';
import PgBoss from 'pg-boss';
import {
  backoffDelayMs,
  JobQueue,
  type DeadLetterJob,
  type EnqueueOptions,
  type JobDefinitions,
  type JobHandlerFunction,
  type JobOutcome,
  type JobOutcomeListener,
  type QueueCounts,
  type ScheduleOptions,
} from './job-queue.port.js';
import { PG_BOSS_QUEUE, PG_BOSS_SCHEMA } from './pg-boss-schema.js';

/** Connections this adapter opens per process: one for the fetch loop, one for enqueue and maintenance. */
export const PG_BOSS_POOL_MAX = 2;

export interface PgBossJobQueueOptions {
  connectionString: string;
  definitions: JobDefinitions;
  /** Run pg-boss maintenance here (worker role): expire jobs whose worker died, archive finished ones. */
  supervise: boolean;
  schema?: string;
  /** How often an idle worker looks for jobs another process enqueued (its own enqueues wake it at once). */
  pollingIntervalMs?: number;
  /** How long close() waits for running jobs before handing them back to the queue. */
  shutdownGraceMs?: number;
}

/** Completed jobs stay a day (the jobId de-duplication window, as BullMQ keeps them); dead letters 30 days. */
const ARCHIVE_COMPLETED_AFTER_SECONDS = 24 * 3600;
const ARCHIVE_FAILED_AFTER_SECONDS = 30 * 24 * 3600;
/** A job still active this long after it started is taken as lost (its worker died) and retried. */
const EXPIRE_IN_SECONDS = 2 * 3600;

interface Envelope {
  name: string;
  payload?: unknown;
  /** The caller's jobId, when it gave one. */
  key?: string;
}

/** pg-boss ids are uuids: a caller's jobId maps to a fixed one, so a second enqueue hits the primary key. */
function storageId(key: string): string {
  if (isUuid(key)) return key.toLowerCase();
  const hex = createHash('sha256').update(`homeroom-job:${key}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Jobs in PostgreSQL through pg-boss, for deployments without Redis: any process enqueues, worker processes
 * fetch with SKIP LOCKED, and jobs (delayed ones and retries included) survive a restart. pg-boss provides the
 * schema, insertion with id de-duplication, fetching and maintenance; this adapter runs its own fetch loop so
 * concurrency and close() behave like BullMQ's worker, sets retries to the catalogue's backoff (pg-boss only
 * knows whole seconds with jitter), and fires schedules itself: each tick's job id is derived from the
 * scheduler id and the tick's time, so every process that registered the schedule inserts the same job and
 * exactly one insert wins.
 */
export class PgBossJobQueue extends JobQueue {
  readonly backend = 'pg-boss' as const;
  private readonly logger = new Logger('PgBossJobQueue');
  private readonly schema: string;
  private readonly listeners: JobOutcomeListener[] = [];
  private readonly schedules = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly activeIds = new Set<string>();
  private pool: pg.Pool | undefined;
  private boss: Promise<PgBoss> | undefined;
  private handlers: ReadonlyMap<string, JobHandlerFunction> | undefined;
  private concurrency = 1;
  private loop: Promise<void> | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private woken = false;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly options: PgBossJobQueueOptions) {
    super();
    this.schema = options.schema ?? PG_BOSS_SCHEMA;
  }

  async enqueue(name: string, payload: unknown, options: EnqueueOptions = {}): Promise<string> {
    const definition = this.definitionOf(name);
    const id = options.jobId === undefined ? randomUUID() : storageId(options.jobId);
    const envelope: Envelope = { name, payload, key: options.jobId };
    const boss = await this.started();
    await boss.send(PG_BOSS_QUEUE, envelope, {
      id,
      retryLimit: definition.attempts - 1,
      retryDelay: 0,
      retryBackoff: false,
      expireInSeconds: EXPIRE_IN_SECONDS,
      // Seconds from the database's clock, not this process's.
      ...(options.delayMs && options.delayMs > 0 ? { startAfter: options.delayMs / 1000 } : {}),
    });
    if (!options.delayMs) this.wake();
    return options.jobId ?? id;
  }

  schedule(name: string, payload: unknown, options: ScheduleOptions): Promise<void> {
    let cron: CronTime;
    try {
      this.definitionOf(name);
      cron = new CronTime(options.cron, options.timeZone);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    clearTimeout(this.schedules.get(options.schedulerId));
    const arm = (from: Date): void => {
      if (this.closing) return;
      const tick = cron.getNextDateFrom(from, options.timeZone).toJSDate();
      const timer = setTimeout(
        () => {
          const jobId = `${options.schedulerId}@${tick.toISOString()}`;
          this.enqueue(name, payload, { jobId }).catch((error: unknown) =>
            this.logger.warn(
              `Schedule ${options.schedulerId} could not enqueue its ${tick.toISOString()} tick: ${describe(error)}`,
            ),
          );
          arm(new Date(Math.max(Date.now(), tick.getTime())));
        },
        Math.max(0, tick.getTime() - Date.now()),
      );
      this.schedules.set(options.schedulerId, timer);
    };
    arm(new Date());
    return Promise.resolve();
  }

  async startProcessing(handlers: ReadonlyMap<string, JobHandlerFunction>, concurrency: number): Promise<void> {
    if (this.handlers || this.closing) return;
    this.handlers = handlers;
    this.concurrency = Math.max(1, concurrency);
    const boss = await this.started();
    this.loop = this.fetchLoop(boss);
  }

  async listDeadLetters(limit: number): Promise<DeadLetterJob[]> {
    const rows = await this.query<{
      id: string;
      data: Envelope;
      retry_count: number;
      output: Record<string, unknown> | null;
      completed_on: Date | null;
    }>(
      `SELECT id, data, retry_count, output, completed_on FROM ${this.schema}.job
        WHERE name = $1 AND state = 'failed' ORDER BY completed_on DESC, id LIMIT $2`,
      [PG_BOSS_QUEUE, Math.max(0, limit)],
    );
    return rows.map((row) => ({
      id: row.data.key ?? row.id,
      name: row.data.name,
      payload: row.data.payload,
      attemptsMade: row.retry_count + 1,
      failedReason: failureMessage(row.output),
      failedAt: row.completed_on ? row.completed_on.toISOString() : null,
    }));
  }

  async retryDeadLetter(jobId: string): Promise<boolean> {
    const rows = await this.query(
      `UPDATE ${this.schema}.job
          SET state = 'created', retry_count = 0, started_on = NULL, completed_on = NULL, output = NULL,
              start_after = now()
        WHERE name = $1 AND id = $2 AND state = 'failed'
      RETURNING id`,
      [PG_BOSS_QUEUE, storageId(jobId)],
    );
    if (rows.length > 0) this.wake();
    return rows.length > 0;
  }

  async counts(): Promise<QueueCounts> {
    const [row] = await this.query<Record<keyof QueueCounts, string>>(
      `SELECT count(*) FILTER (WHERE state < 'active' AND start_after <= now()) AS waiting,
              count(*) FILTER (WHERE state = 'active') AS active,
              count(*) FILTER (WHERE state < 'active' AND start_after > now()) AS delayed,
              count(*) FILTER (WHERE state = 'failed') AS failed
         FROM ${this.schema}.job WHERE name = $1`,
      [PG_BOSS_QUEUE],
    );
    return {
      waiting: Number(row?.waiting ?? 0),
      active: Number(row?.active ?? 0),
      delayed: Number(row?.delayed ?? 0),
      failed: Number(row?.failed ?? 0),
    };
  }

  async ping(): Promise<void> {
    if (this.closing) throw new Error('The job queue is closed');
    await this.query('SELECT 1', []);
  }

  onOutcome(listener: JobOutcomeListener): void {
    this.listeners.push(listener);
  }

  /**
   * Stops schedules and fetching, waits up to the grace period for running jobs, hands any still running back
   * to the queue (another worker retries them), then closes the pool.
   */
  close(): Promise<void> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  private async shutDown(): Promise<void> {
    this.closing = true;
    for (const timer of this.schedules.values()) clearTimeout(timer);
    this.schedules.clear();
    this.wake();
    await this.loop;
    const grace = this.options.shutdownGraceMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise((resolve) => (timer = setTimeout(resolve, grace))),
    ]);
    clearTimeout(timer);
    const boss = this.boss ? await this.boss.catch(() => undefined) : undefined;
    if (this.running.size > 0 && boss) {
      this.logger.warn(`${this.running.size} job(s) still running after ${grace} ms: handed back to the queue`);
      await this.query(
        `UPDATE ${this.schema}.job SET state = 'retry', start_after = now()
          WHERE name = $1 AND state = 'active' AND id = ANY($2::uuid[])`,
        [PG_BOSS_QUEUE, [...this.activeIds]],
      ).catch((error: unknown) => this.logger.warn(`Could not hand back running jobs: ${describe(error)}`));
    }
    await boss?.stop({ graceful: false, close: false });
    await this.pool?.end();
  }

  private started(): Promise<PgBoss> {
    if (this.closing) return Promise.reject(new Error('The job queue is closed'));
    this.boss ??= this.startBoss().catch((error: unknown) => {
      this.boss = undefined;
      throw error;
    });
    return this.boss;
  }

  private async startBoss(): Promise<PgBoss> {
    this.pool ??= this.createPool();
    const pool = this.pool;
    const boss = new PgBoss({
      db: { executeSql: (text: string, values: unknown[]) => pool.query(text, values) },
      schema: this.schema,
      // The schema and the queue are installed by the migrations, as the owner.
      migrate: false,
      // Schedules are fired by this adapter (to the second, without pg-boss's internal queues).
      schedule: false,
      supervise: this.options.supervise,
      maintenanceIntervalSeconds: 60,
      archiveCompletedAfterSeconds: ARCHIVE_COMPLETED_AFTER_SECONDS,
      archiveFailedAfterSeconds: ARCHIVE_FAILED_AFTER_SECONDS,
      deleteAfterDays: 7,
    });
    boss.on('error', (error) => this.logger.warn(`pg-boss: ${describe(error)}`));
    try {
      await boss.start();
    } catch (error) {
      const message = describe(error);
      if (/not installed|requires migrations/.test(message)) {
        throw new Error(
          `The job queue's tables (schema "${this.schema}") are missing or outdated: ${message}. ` +
            'Run the migrations (homeroom migrate, or start with DATABASE_MIGRATE_ON_START=true).',
          { cause: error },
        );
      }
      throw error;
    }
    return boss;
  }

  private createPool(): pg.Pool {
    const pool = new pg.Pool({
      connectionString: this.options.connectionString,
      max: PG_BOSS_POOL_MAX,
      application_name: 'homeroom-jobs',
    });
    pool.on('error', (error) => this.logger.warn(`Job queue connection error: ${describe(error)}`));
    return pool;
  }

  private async query<R = Record<string, unknown>>(text: string, values: unknown[]): Promise<R[]> {
    // Bookkeeping of running jobs still works while closing; anything else needs an open queue.
    await (this.boss ?? this.started());
    const result = await this.pool!.query(text, values);
    return result.rows as R[];
  }

  private async fetchLoop(boss: PgBoss): Promise<void> {
    const interval = this.options.pollingIntervalMs ?? 1_000;
    while (!this.closing) {
      const free = this.concurrency - this.running.size;
      let fetched = 0;
      if (free > 0) {
        try {
          const jobs = await boss.fetch<Envelope>(PG_BOSS_QUEUE, { batchSize: free, includeMetadata: true });
          fetched = jobs.length;
          for (const job of jobs) this.start(job);
        } catch (error) {
          this.logger.warn(`Fetching jobs failed: ${describe(error)}`);
        }
      }
      if (this.closing) break;
      // A full batch may mean more are waiting: look again as soon as a slot is free.
      await this.sleep(fetched > 0 && fetched === free ? 0 : interval);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    if (ms === 0 && this.running.size < this.concurrency) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms === 0 ? 2_147_483_647 : ms);
      this.wakeUp = done;
    });
  }

  private wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }

  private start(job: PgBoss.JobWithMetadata<Envelope>): void {
    this.activeIds.add(job.id);
    const run = this.run(job)
      .catch((error: unknown) => this.logger.error(`Job ${job.id} bookkeeping failed: ${describe(error)}`))
      .finally(() => {
        this.running.delete(run);
        this.activeIds.delete(job.id);
        this.wake();
      });
    this.running.add(run);
  }

  private async run(job: PgBoss.JobWithMetadata<Envelope>): Promise<void> {
    const { name, payload, key } = job.data;
    const attempt = job.retryCount + 1;
    const started = performance.now();
    let failure: unknown;
    try {
      const handler = this.handlers?.get(name);
      if (!handler) throw new Error(`No handler for job "${name}"`);
      await handler(payload, { jobId: key ?? job.id, attempt });
    } catch (error) {
      failure = error ?? new Error('Job failed');
    }
    // retry_count fences the update: if maintenance expired this run and another worker took the job, this
    // late result must not overwrite the other run's state.
    if (failure === undefined) {
      await this.query(
        `UPDATE ${this.schema}.job SET state = 'completed', completed_on = now(), output = NULL
          WHERE name = $1 AND id = $2 AND state = 'active' AND retry_count = $3`,
        [PG_BOSS_QUEUE, job.id, job.retryCount],
      );
      this.emit(name, 'completed', started);
      return;
    }
    const definition = this.definitions[name];
    const retry = definition !== undefined && attempt < definition.attempts;
    await this.query(
      `UPDATE ${this.schema}.job
          SET state = CASE WHEN $4 THEN 'retry' ELSE 'failed' END::${this.schema}.job_state,
              start_after = CASE WHEN $4 THEN now() + $5::double precision * interval '1 millisecond' ELSE start_after END,
              completed_on = CASE WHEN $4 THEN NULL ELSE now() END,
              output = $6::jsonb
        WHERE name = $1 AND id = $2 AND state = 'active' AND retry_count = $3`,
      [
        PG_BOSS_QUEUE,
        job.id,
        job.retryCount,
        retry,
        retry && definition ? backoffDelayMs(definition, attempt) : 0,
        JSON.stringify({ message: describe(failure) }),
      ],
    );
    this.emit(name, retry ? 'retrying' : 'dead_lettered', started);
  }

  private get definitions(): JobDefinitions {
    return this.options.definitions;
  }

  private definitionOf(name: string) {
    const definition = this.definitions[name];
    if (!definition) throw new Error(`Unknown job "${name}": add it to the job catalogue`);
    return definition;
  }

  private emit(name: string, outcome: JobOutcome, started: number): void {
    const duration = performance.now() - started;
    for (const listener of this.listeners) listener(name, outcome, duration);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Our failures store `{ message }`; pg-boss's own (expiry, shutdown) store `{ value: { message } }` or an error. */
function failureMessage(output: Record<string, unknown> | null): string {
  if (!output) return 'unknown';
  if (typeof output['message'] === 'string') return output['message'];
  const value = output['value'];
  if (value && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') {
    return (value as { message: string }).message;
  }
  return typeof value === 'string' ? value : 'unknown';
}
