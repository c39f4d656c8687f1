import type { JobDefinition } from '@app/contracts';

export interface EnqueueOptions {
  /**
   * Deduplicates: a second enqueue with the same id while the first exists (waiting, delayed, running, dead
   * lettered, or completed and still kept, a day in both adapters) is ignored and returns the same id.
   */
  jobId?: string;
  delayMs?: number;
}

export interface ScheduleOptions {
  /** Stable id: re-registering the same id replaces the schedule instead of adding a second one. */
  schedulerId: string;
  cron: string;
  timeZone?: string;
}

export interface JobContext {
  jobId: string;
  /** 1 for the first try. */
  attempt: number;
}

export type JobHandlerFunction = (payload: unknown, context: JobContext) => Promise<void>;

export interface DeadLetterJob {
  id: string;
  name: string;
  payload: unknown;
  attemptsMade: number;
  failedReason: string;
  failedAt: string | null;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export type JobOutcome = 'completed' | 'retrying' | 'dead_lettered';
export type JobOutcomeListener = (name: string, outcome: JobOutcome, durationMs: number) => void;

/**
 * Background jobs, shared between processes: through Redis (BullMQ) when REDIS_URL is set, otherwise through
 * the app's PostgreSQL (pg-boss). Both keep jobs across restarts, retry with exponential backoff and keep jobs
 * that used up their attempts in a dead-letter state an operator can list and retry. `in-memory` is the test
 * fake (libs/testing), held to the same contract suite.
 */
export abstract class JobQueue {
  abstract readonly backend: 'bullmq' | 'pg-boss' | 'in-memory';

  abstract enqueue(name: string, payload: unknown, options?: EnqueueOptions): Promise<string>;

  /** Registers a repeating trigger. Several workers registering the same schedule still fire it once per tick. */
  abstract schedule(name: string, payload: unknown, options: ScheduleOptions): Promise<void>;

  /** Starts consuming jobs (worker role only). */
  abstract startProcessing(handlers: ReadonlyMap<string, JobHandlerFunction>, concurrency: number): Promise<void>;

  abstract listDeadLetters(limit: number): Promise<DeadLetterJob[]>;

  /** Moves a dead-lettered job back to waiting with a fresh set of attempts. False if no such job. */
  abstract retryDeadLetter(jobId: string): Promise<boolean>;

  abstract counts(): Promise<QueueCounts>;

  abstract ping(): Promise<void>;

  abstract onOutcome(listener: JobOutcomeListener): void;

  abstract close(): Promise<void>;
}

export type JobDefinitions = Readonly<Record<string, JobDefinition>>;

/** Delay before retry number `retry` (1-based), doubling from the definition's base and capped at an hour. */
export function backoffDelayMs(definition: JobDefinition, retry: number): number {
  return Math.min(definition.backoffMs * 2 ** (retry - 1), 3_600_000);
}
