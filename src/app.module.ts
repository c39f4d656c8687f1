import { jobDefinitions } from '@app/contracts';
import { PersistenceModule } from '@app/persistence';
import { QueueModule } from '@app/queue';
import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import { ConfigurationModule, type LoadedConfiguration } from './config/index.js';
import { APPEND_ONLY_AUDIT_TABLES, migrations, runtimeRoleGrants } from './migrations/index.js';
import { AuditModule } from './modules/audit/index.js';
import { IdentityModule } from './modules/identity/index.js';
import { ObservabilityModule } from './modules/observability/index.js';
import { RealtimeModule } from './modules/realtime/index.js';
import { RosterModule } from './modules/roster/index.js';
import { SisSyncModule } from './modules/sis-sync/index.js';
import { createLoggerOptions } from './logger-options.js';

/**
 * `api` serves HTTP and sockets, `worker` runs jobs and schedules, `all` is both (the embedded default),
 * `cli` loads the module graph for operator commands without serving or consuming anything.
 */
export type ProcessRole = 'all' | 'api' | 'worker' | 'cli';

export interface AppModuleOptions {
  role: ProcessRole;
  configuration: LoadedConfiguration;
  /** The operator's DATABASE_URL, or the embedded PostgreSQL server's (its service role). */
  databaseUrl: string;
}

@Module({})
export class AppModule {
  static forRole({ role, configuration, databaseUrl }: AppModuleOptions): DynamicModule {
    const servesHttp = role === 'api' || role === 'all';
    const processesJobs = role === 'worker' || role === 'all';
    const { database } = configuration;
    // The embedded default connects as its own least-privileged role too, so the check holds in both modes.
    const checksRole = configuration.app.isProduction && role !== 'cli';
    return {
      module: AppModule,
      imports: [
        ConfigurationModule.forRoot(configuration),
        LoggerModule.forRoot(createLoggerOptions(configuration.app)),
        CqrsModule.forRoot(),
        PersistenceModule.forRootAsync({
          useFactory: () => ({
            url: databaseUrl,
            poolMax: database.poolMax,
            debug: database.debug,
            migrateOnStart: database.migrateOnStart,
            migrations,
            migrationUrl: database.migrationUrl,
            runtimeRole: database.appRole,
            runtimeGrants: runtimeRoleGrants,
            requireLeastPrivilegedRole: checksRole ? { highlight: APPEND_ONLY_AUDIT_TABLES } : undefined,
          }),
        }),
        QueueModule.forRoot({
          redisUrl: configuration.redis.url,
          databaseUrl,
          prefix: configuration.redis.prefix,
          definitions: jobDefinitions,
          // A request must not wait for Redis; a worker's own enqueues may wait out a short outage.
          failFastEnqueue: servesHttp,
          useFactory: () => ({ process: processesJobs, concurrency: configuration.app.jobConcurrency }),
        }),
        IdentityModule.forRole({ servesHttp }),
        ObservabilityModule.forRole({ servesHttp, servesMetrics: role !== 'cli' }),
        RealtimeModule.forRole({ servesSockets: servesHttp }),
        AuditModule.forRole({ servesHttp }),
        RosterModule.forRole({ servesHttp }),
        SisSyncModule.forRole({ servesHttp, servesCli: role === 'cli' }),
      ],
    };
  }
}
