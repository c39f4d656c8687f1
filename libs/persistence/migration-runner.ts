import { MikroORM, type MigrationObject } from '@mikro-orm/core';
import pg from 'pg';
import { buildOrmOptions } from './orm-options.js';

/** Arbitrary but fixed key: every Homeroom process takes the same advisory lock before migrating. */
const MIGRATION_LOCK_KEY = 4_210_337_019;

export interface AppliedMigrations {
  applied: string[];
}

/** The statements that give a role that owns nothing what the service needs (see `MigrationSettings`). */
export type RuntimeRoleGrants = (quotedRole: string) => string[];

export interface MigrationSettings {
  /** The service's connection (DATABASE_URL). */
  url: string;
  /** The owner's connection (DATABASE_MIGRATION_URL): when set, migrations run through it instead of `url`. */
  migrationUrl?: string;
  migrations: MigrationObject[];
  /** The role the service connects as, when it is not the owner: granted `runtimeGrants` after every migration run. */
  runtimeRole?: string;
  runtimeGrants?: RuntimeRoleGrants;
}

/**
 * Applies pending migrations as the owner role when a migration URL is set (otherwise on the service's own
 * connection), then grants the runtime role its privileges again, so tables that a new migration created are
 * covered as soon as they exist. Idempotent: also run when nothing is pending.
 */
export async function migrateDatabase(orm: MikroORM, settings: MigrationSettings): Promise<AppliedMigrations> {
  const grants =
    settings.runtimeRole && settings.runtimeGrants ? settings.runtimeGrants(quoteIdentifier(settings.runtimeRole)) : [];
  if (!settings.migrationUrl) return applyPendingMigrations(orm, settings.url, grants);
  const ownerOrm = await MikroORM.init({
    ...buildOrmOptions({ url: settings.migrationUrl, poolMax: 1, migrations: settings.migrations }),
    // Its `[migrator]` lines go where the service's own ORM writes (the JSON logs), not to the console as text.
    logger: orm.config.get('logger'),
  });
  try {
    return await applyPendingMigrations(ownerOrm, settings.migrationUrl, grants);
  } finally {
    await ownerOrm.close(true);
  }
}

/**
 * Applies pending migrations while holding a PostgreSQL advisory lock on a dedicated connection, so that
 * several API and worker processes starting together migrate once and the others wait for them. `grants` run
 * afterwards in one transaction, still under the lock.
 */
export async function applyPendingMigrations(
  orm: MikroORM,
  url: string,
  grants: readonly string[] = [],
): Promise<AppliedMigrations> {
  const lockClient = new pg.Client({ connectionString: url });
  await lockClient.connect();
  try {
    await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await orm.migrator.up();
      if (grants.length > 0) {
        await lockClient.query('BEGIN');
        try {
          for (const statement of grants) await lockClient.query(statement);
          await lockClient.query('COMMIT');
        } catch (error) {
          await lockClient.query('ROLLBACK');
          throw error;
        }
      }
      return { applied: applied.map((migration) => migration.name) };
    } finally {
      await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lockClient.end();
  }
}

/** A PostgreSQL identifier in double quotes, embedded quotes doubled (what `quote_ident` and `%I` produce). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
