import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { Module, type DynamicModule, type FactoryProvider, type ModuleMetadata } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BullMqJobQueue } from './bullmq-job-queue.js';
import { JOB_DEFINITIONS, JobHandlerRegistry, QUEUE_SETTINGS, type QueueSettings } from './job-handler.registry.js';
import { JobQueue, type JobDefinitions } from './job-queue.port.js';
import { PgBossJobQueue } from './pg-boss-job-queue.js';

export const JOBS_QUEUE_NAME = 'jobs';

export interface QueueModuleOptions {
  /** Known before the module is built, because it decides which adapter (and which Nest modules) load. */
  redisUrl?: string;
  /** The app's database: without `redisUrl`, jobs live there (pg-boss, schema installed by the migrations). */
  databaseUrl: string;
  prefix: string;
  definitions: JobDefinitions;
  /** Enqueues refuse at once (QUEUE.UNAVAILABLE) while Redis is away, instead of waiting for it to return. */
  failFastEnqueue?: boolean;
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  useFactory: (...args: never[]) => Omit<QueueSettings, 'redisUrl' | 'prefix'>;
}

@Module({})
export class QueueModule {
  static forRoot(options: QueueModuleOptions): DynamicModule {
    const settings: FactoryProvider = {
      provide: QUEUE_SETTINGS,
      inject: options.inject ?? [],
      useFactory: (...args: never[]): QueueSettings => ({
        ...options.useFactory(...args),
        redisUrl: options.redisUrl,
        prefix: options.prefix,
      }),
    };
    const definitions = { provide: JOB_DEFINITIONS, useValue: options.definitions };
    const common = [settings, definitions, JobHandlerRegistry];

    if (!options.redisUrl) {
      return {
        module: QueueModule,
        global: true,
        imports: [DiscoveryModule, ...(options.imports ?? [])],
        providers: [
          ...common,
          {
            provide: JobQueue,
            inject: [QUEUE_SETTINGS],
            useFactory: (queueSettings: QueueSettings) =>
              new PgBossJobQueue({
                connectionString: options.databaseUrl,
                definitions: options.definitions,
                supervise: queueSettings.process,
              }),
          },
        ],
        exports: [JobQueue],
      };
    }

    const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
    return {
      module: QueueModule,
      global: true,
      imports: [
        DiscoveryModule,
        ...(options.imports ?? []),
        BullModule.forRoot({ connection, prefix: options.prefix }),
        BullModule.registerQueue({ name: JOBS_QUEUE_NAME }),
      ],
      providers: [
        ...common,
        {
          provide: JobQueue,
          inject: [getQueueToken(JOBS_QUEUE_NAME)],
          useFactory: (queue: Queue) =>
            new BullMqJobQueue(queue, connection, options.definitions, {
              failFastEnqueue: options.failFastEnqueue ?? false,
            }),
        },
      ],
      exports: [JobQueue],
    };
  }
}
