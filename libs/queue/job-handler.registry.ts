import { MikroORM, RequestContext } from '@mikro-orm/core';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import {
  JOB_HANDLER_METADATA,
  type HandlesJob,
  type HasConfiguredSchedule,
  type JobHandlerMetadata,
} from './job-handler.decorator.js';
import { JobQueue, type JobContext, type JobDefinitions, type JobHandlerFunction } from './job-queue.port.js';

export const QUEUE_SETTINGS = Symbol('QUEUE_SETTINGS');
export const JOB_DEFINITIONS = Symbol('JOB_DEFINITIONS');

export interface QueueSettings {
  redisUrl?: string;
  prefix: string;
  /** Whether this process consumes jobs and registers schedules (worker role). */
  process: boolean;
  concurrency: number;
}

/**
 * Finds every `@JobHandler` at boot, refuses to start when a catalogued job has no handler or two, and in
 * the worker role starts the queue with each run wrapped in its own MikroORM request context.
 */
@Injectable()
export class JobHandlerRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('JobQueue');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    private readonly queue: JobQueue,
    @Inject(JOB_DEFINITIONS) private readonly definitions: JobDefinitions,
    @Inject(QUEUE_SETTINGS) private readonly settings: QueueSettings,
    @Optional() private readonly orm?: MikroORM,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const found = this.discoverHandlers();
    if (!this.settings.process) return;
    const handlers = new Map<string, JobHandlerFunction>();
    for (const [name, { instance }] of found) {
      handlers.set(name, async (payload, context) => {
        try {
          await this.runInContext(() => instance.handle(payload, context));
        } catch (error) {
          this.logFailure(name, context, error);
          throw error;
        }
      });
    }
    await this.queue.startProcessing(handlers, this.settings.concurrency);
    for (const [name, { instance, metadata }] of found) {
      if (!metadata.schedule) continue;
      const configured = (instance as Partial<HasConfiguredSchedule>).scheduledCron?.();
      await this.queue.schedule(name, metadata.schedule.payload, {
        schedulerId: `schedule:${name}`,
        cron: configured ?? metadata.schedule.cron,
        timeZone: metadata.schedule.timeZone,
      });
      if (metadata.runOnStart) await this.queue.enqueue(name, metadata.schedule.payload);
    }
    this.logger.log(`Processing ${handlers.size} job type(s) on the ${this.queue.backend} queue`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }

  private discoverHandlers(): Map<string, { instance: HandlesJob; metadata: JobHandlerMetadata }> {
    const found = new Map<string, { instance: HandlesJob; metadata: JobHandlerMetadata }>();
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.metatype || !wrapper.instance) continue;
      const metadata = this.reflector.get<JobHandlerMetadata | undefined>(JOB_HANDLER_METADATA, wrapper.metatype);
      if (!metadata) continue;
      if (!(metadata.name in this.definitions)) {
        throw new Error(`${wrapper.name} handles "${metadata.name}", which is not in the job catalogue`);
      }
      if (found.has(metadata.name)) {
        throw new Error(`Job "${metadata.name}" has two handlers; exactly one is allowed`);
      }
      found.set(metadata.name, { instance: wrapper.instance as HandlesJob, metadata });
    }
    const missing = Object.keys(this.definitions).filter((name) => !found.has(name));
    if (missing.length > 0) throw new Error(`Jobs without a handler: ${missing.join(', ')}`);
    return found;
  }

  /** Every failed attempt, whichever adapter runs it: name, attempt and a stable code (never the payload). */
  private logFailure(name: string, context: JobContext, error: unknown): void {
    const attempts = this.definitions[name]?.attempts ?? 1;
    const next = context.attempt < attempts ? 'retry' : 'dead-letter';
    this.logger.warn(
      `Job failed: name=${name} jobId=${context.jobId} attempt=${context.attempt}/${attempts} ` +
        `code=${errorCode(error)} next=${next}`,
    );
  }

  private runInContext(run: () => Promise<void>): Promise<void> {
    const orm = this.orm;
    if (!orm) return run();
    return RequestContext.create(orm.em, run);
  }
}

/** A domain error's code (or a driver's, such as `ECONNREFUSED` or a SQLSTATE), else the error's class. */
function errorCode(error: unknown): string {
  if (error && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
    if (error instanceof Error) return error.name;
  }
  return 'UNKNOWN';
}
