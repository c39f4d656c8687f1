import { pgBossInstallStatements, PG_BOSS_SCHEMA } from '@app/queue';
import { Migration } from '@mikro-orm/migrations';

/**
 * Without Redis, jobs live in PostgreSQL through pg-boss (schema `pgboss`, one queue `jobs`). The schema is
 * installed here, by the owner, because pg-boss would otherwise create it at start-up, and the service's role
 * owns nothing and may not create tables. A later pg-boss release with a new schema version needs a migration
 * of its own (pg-boss refuses to start on an outdated schema rather than migrating it as the service's role).
 */
export class Migration20261208030000_job_queue extends Migration {
  override up(): void {
    for (const statement of pgBossInstallStatements()) this.addSql(statement);
  }

  override down(): void {
    this.addSql(`DROP SCHEMA ${PG_BOSS_SCHEMA} CASCADE`);
  }
}
