import { MIGRATIONS_TABLE } from '@app/persistence';
import { pgBossRuntimeGrants } from '@app/queue';

/** The audit trail's append-only tables: named first when the production check finds an owner connected. */
export const APPEND_ONLY_AUDIT_TABLES = [
  'audit_events',
  'audit_event_payloads',
  'audit_checkpoints',
  'audit_disclosures',
  'audit_purged_events',
  'audit_verifications',
];

/**
 * What the service's role (DATABASE_URL, owning nothing) is granted after every migration run, as the owner
 * (DATABASE_MIGRATION_URL). Re-granting every time covers the tables later migrations create.
 *
 * - DML (and TRUNCATE, which the audit projections' rebuild uses) on every table, USAGE on the sequences.
 * - The migrations table: read only.
 * - Append-only tables, found by their `audit_refuse_change` triggers so a new one is covered without a list to
 *   keep in step: SELECT and INSERT only. Without UPDATE, DELETE or TRUNCATE the privilege check refuses before
 *   the triggers are even asked, and payloads are removed only through `audit_purge_payloads`, which runs as the
 *   owner (setting the purge flag by hand is no use without DELETE).
 * - EXECUTE on the owner's SECURITY DEFINER functions the service calls.
 * - The job queue's tables (schema `pgboss`): DML only; its queue was created by the migration.
 *
 * Never ownership, GRANT OPTION, REFERENCES or TRIGGER: the role cannot grant itself more or disable a trigger.
 */
export function runtimeRoleGrants(role: string): string[] {
  return [
    `GRANT USAGE ON SCHEMA public TO ${role}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO ${role}`,
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`,
    `REVOKE ALL ON ${MIGRATIONS_TABLE} FROM ${role}`,
    `GRANT SELECT ON ${MIGRATIONS_TABLE} TO ${role}`,
    `DO $$
     DECLARE guarded regclass;
     BEGIN
       FOR guarded IN
         SELECT DISTINCT t.tgrelid::regclass FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
          WHERE p.proname = 'audit_refuse_change'
       LOOP
         EXECUTE format('REVOKE ALL ON %s FROM %s', guarded, ${literal(role)});
         EXECUTE format('GRANT SELECT, INSERT ON %s TO %s', guarded, ${literal(role)});
       END LOOP;
     END $$`,
    `GRANT EXECUTE ON FUNCTION audit_purge_payloads(timestamptz, integer) TO ${role}`,
    `GRANT EXECUTE ON FUNCTION refresh_table_statistics(regclass, text[]) TO ${role}`,
    ...pgBossRuntimeGrants(role),
  ];
}

/** A SQL string literal (the role arrives already quoted as an identifier). */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
