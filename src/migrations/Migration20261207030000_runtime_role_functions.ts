import { Migration } from '@mikro-orm/migrations';

/**
 * Prepares for a service role that owns nothing (DATABASE_URL), separate from the owner that migrates
 * (DATABASE_MIGRATION_URL); the grants themselves are in `runtime-role-grants.ts`, applied after every
 * migration run.
 *
 * - `audit_purge_payloads` runs as the owner (SECURITY DEFINER) and PostgreSQL lets PUBLIC execute a new function,
 *   so any role that can connect (a reporting user, say) could purge the trail's entries with a cutoff of its
 *   choosing. Only the owner, and the runtime role it grants, may call it now.
 * - `refresh_table_statistics` runs ANALYZE as the owner: PostgreSQL before 17 lets only a table's owner analyze
 *   it (anyone else gets a warning and no statistics), and the sync re-plans on fresh statistics of the tables it
 *   just filled. ANALYZE changes nothing but planner statistics.
 */
export class Migration20261207030000_runtime_role_functions extends Migration {
  override up(): void {
    this.addSql('REVOKE EXECUTE ON FUNCTION audit_purge_payloads(timestamptz, integer) FROM PUBLIC');
    this.addSql(`
      CREATE FUNCTION refresh_table_statistics(p_table regclass, p_columns text[]) RETURNS void
      LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
      BEGIN
        EXECUTE format('ANALYZE %s%s', p_table,
          CASE WHEN cardinality(p_columns) > 0
            THEN ' (' || (SELECT string_agg(quote_ident(c), ', ') FROM unnest(p_columns) c) || ')'
            ELSE '' END);
      END $$`);
    this.addSql('REVOKE EXECUTE ON FUNCTION refresh_table_statistics(regclass, text[]) FROM PUBLIC');
  }

  override down(): void {
    this.addSql('DROP FUNCTION refresh_table_statistics(regclass, text[])');
    this.addSql('GRANT EXECUTE ON FUNCTION audit_purge_payloads(timestamptz, integer) TO PUBLIC');
  }
}
