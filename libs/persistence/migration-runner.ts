import type { MikroORM } from '@mikro-orm/core';
import pg from 'pg';

/** Arbitrary but fixed key: every Homeroom process takes the same advisory lock before migrating. */
const MIGRATION_LOCK_KEY = 4_210_337_019;

export interface AppliedMigrations {
  applied: string[];
}

/**
 * Applies pending migrations while holding a PostgreSQL advisory lock on a dedicated connection, so that
 * several API and worker processes starting together migrate once and the others wait for them.
 */
export async function applyPendingMigrations(orm: MikroORM, url: string): Promise<AppliedMigrations> {
  const lockClient = new pg.Client({ connectionString: url });
  await lockClient.connect();
  try {
    await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await orm.migrator.up();
      return { applied: applied.map((migration) => migration.name) };
    } finally {
      await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lockClient.end();
  }
}
