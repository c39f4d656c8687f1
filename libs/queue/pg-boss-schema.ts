import PgBoss from 'pg-boss';

/** Where pg-boss keeps its tables, beside the app's `public` schema. */
export const PG_BOSS_SCHEMA = 'pgboss';
/** The one pg-boss queue every catalogued job goes through; the job's own name travels in its data. */
export const PG_BOSS_QUEUE = 'jobs';

/**
 * The statements that install pg-boss's schema (at the version of the installed package) and create the
 * `jobs` queue. Run by the owner at migration time: creating a queue creates a partition table, which the
 * service's role (owning nothing) must never do. pg-boss wraps its plan in BEGIN/COMMIT; the migration
 * already runs in a transaction, so that wrapper is taken off (its lock timeout and advisory lock stay).
 */
export function pgBossInstallStatements(schema: string = PG_BOSS_SCHEMA): string[] {
  const plan = PgBoss.getConstructionPlans(schema).trim();
  if (!plan.startsWith('BEGIN;') || !plan.endsWith('COMMIT;')) {
    throw new Error('Unexpected pg-boss construction plan: check the installed pg-boss version');
  }
  const body = plan.slice('BEGIN;'.length, -'COMMIT;'.length);
  return [body, `SELECT ${schema}.create_queue('${PG_BOSS_QUEUE}', '{"policy":"standard"}'::json)`];
}

/** What the service's role needs on pg-boss's tables: DML only (no CREATE: queues exist already). */
export function pgBossRuntimeGrants(quotedRole: string, schema: string = PG_BOSS_SCHEMA): string[] {
  return [
    `GRANT USAGE ON SCHEMA ${schema} TO ${quotedRole}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${quotedRole}`,
  ];
}
