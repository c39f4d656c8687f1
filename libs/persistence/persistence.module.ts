import { MikroORM } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver, type EntityManager } from '@mikro-orm/postgresql';
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
import { migrateDatabase, type RuntimeRoleGrants } from './migration-runner.js';
import { buildOrmOptions, type DatabaseConnectionSettings } from './orm-options.js';
import { assertLeastPrivilegedRole } from './runtime-role-guard.js';

export interface PersistenceSettings extends DatabaseConnectionSettings {
  migrateOnStart: boolean;
  /** The owner's URL: migrations run through it when set (DATABASE_MIGRATION_URL). */
  migrationUrl?: string;
  /** The role the service connects as when it is not the owner; granted `runtimeGrants` after migrating. */
  runtimeRole?: string;
  runtimeGrants?: RuntimeRoleGrants;
  /**
   * Refuse to start when the connected role is a superuser or owns tables (production service processes):
   * such a role could grant itself what the migrations revoked, or disable triggers.
   */
  requireLeastPrivilegedRole?: { highlight?: readonly string[] };
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
    if (this.settings.migrateOnStart) {
      const { applied } = await migrateDatabase(this.orm, this.settings);
      if (applied.length > 0) this.logger.log(`Applied ${applied.length} migration(s): ${applied.join(', ')}`);
    }
    if (this.settings.requireLeastPrivilegedRole) {
      await assertLeastPrivilegedRole(this.orm.em as EntityManager, this.settings.requireLeastPrivilegedRole);
    }
  }
}

export interface PersistenceModuleOptions {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  useFactory: (...args: never[]) => PersistenceSettings | Promise<PersistenceSettings>;
}

/** MikroORM on PostgreSQL (an operator's server or the embedded one), with migrations applied at start-up by default. */
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
