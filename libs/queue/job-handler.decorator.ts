import { SetMetadata } from '@nestjs/common';

export const JOB_HANDLER_METADATA = Symbol('homeroom:job-handler');

export interface JobHandlerOptions {
  /** A repeating trigger the worker role registers at start-up. */
  schedule?: { cron: string; timeZone?: string; payload: unknown };
  /** Also run it once when a worker starts (with the schedule's payload), e.g. to pick up work a dead worker left. */
  runOnStart?: boolean;
}

export interface JobHandlerMetadata extends JobHandlerOptions {
  name: string;
}

/** The class that runs one job of the catalogue. It must have a `handle(payload, context)` method. */
export function JobHandler(name: string, options: JobHandlerOptions = {}): ClassDecorator {
  return SetMetadata(JOB_HANDLER_METADATA, { name, ...options } satisfies JobHandlerMetadata);
}

/**
 * A scheduled handler whose cron comes from configuration: the worker registers `scheduledCron()` instead of the
 * decorator's `schedule.cron` (which stays the documented default).
 */
export interface HasConfiguredSchedule {
  scheduledCron(): string;
}

export interface HandlesJob<P = unknown> {
  handle(payload: P, context: import('./job-queue.port.js').JobContext): Promise<void>;
}
