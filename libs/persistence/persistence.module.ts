import { MikroORM } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import {
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
  type OnModuleInit,
} from '@nestjs/common';
import { applyPendingMigrations } from './migration-runner.js';
import { buildOrmOptions, type DatabaseConnectionSettings } from './orm-options.js';

export interface PersistenceSettings extends DatabaseConnectionSettings {
  migrateOnStart: boolean;
}

export const PERSISTENCE_SETTINGS = Symbol('PERSISTENCE_SETTINGS');

@Injectable()
class StartupMigrations implements OnModuleInit {
  private readonly logger = new Logger('Migrations');

  constructor(
    private readonly orm: MikroORM,
    @Inject(PERSISTENCE_SETTINGS) private readonly settings: PersistenceSettings,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.settings.migrateOnStart) return;
    const { applied } = await applyPendingMigrations(this.orm, this.settings.url);
    if (applied.length > 0) this.logger.log(`Applied ${applied.length} migration(s): ${applied.join(', ')}`);
  }
}

export interface PersistenceModuleOptions {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  useFactory: (...args: never[]) => PersistenceSettings | Promise<PersistenceSettings>;
}

/** MikroORM on PostgreSQL (or the embedded PGlite server), with migrations applied at start-up by default. */
@Module({})
export class PersistenceModule {
  static forRootAsync(options: PersistenceModuleOptions): DynamicModule {
    const settingsProvider: FactoryProvider = {
      provide: PERSISTENCE_SETTINGS,
      inject: options.inject ?? [],
      useFactory: options.useFactory,
    };
    return {
      module: PersistenceModule,
      global: true,
      imports: [
        ...(options.imports ?? []),
        MikroOrmModule.forRootAsync({
          driver: PostgreSqlDriver,
          imports: [PersistenceSettingsModule.with(settingsProvider, options.imports ?? [])],
          inject: [PERSISTENCE_SETTINGS],
          useFactory: (settings: PersistenceSettings) => ({
            ...buildOrmOptions(settings),
            autoLoadEntities: true,
            registerRequestContext: true,
          }),
        }),
      ],
      providers: [settingsProvider, StartupMigrations],
      exports: [PERSISTENCE_SETTINGS],
    };
  }
}

@Module({})
class PersistenceSettingsModule {
  static with(provider: FactoryProvider, imports: NonNullable<ModuleMetadata['imports']>): DynamicModule {
    return { module: PersistenceSettingsModule, imports, providers: [provider], exports: [PERSISTENCE_SETTINGS] };
  }
}
