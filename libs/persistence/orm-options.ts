import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import type { MigrationObject } from '@mikro-orm/core';

export interface DatabaseConnectionSettings {
  url: string;
  poolMax: number;
  debug?: boolean;
  migrations: MigrationObject[];
  /** Absolute path where `migration create` writes new migration files. */
  migrationsPath?: string;
  entities?: Options['entities'];
}

export const MIGRATIONS_TABLE = 'schema_migrations';

export function buildOrmOptions(settings: DatabaseConnectionSettings): Options {
  return defineConfig({
    clientUrl: settings.url,
    pool: { min: 0, max: settings.poolMax },
    entities: settings.entities ?? [],
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: {
      migrationsList: settings.migrations,
      tableName: MIGRATIONS_TABLE,
      path: settings.migrationsPath,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
      // Bulk tables (roster mirror, staging) are written with SQL and have no entity definitions.
      dropTables: false,
    },
    forceUtcTimezone: true,
    ensureDatabase: false,
    allowGlobalContext: false,
    debug: settings.debug ?? false,
    // Its messages go to the JSON logs (through the Nest logger): ANSI colour codes would be noise inside them.
    colors: false,
  });
}
