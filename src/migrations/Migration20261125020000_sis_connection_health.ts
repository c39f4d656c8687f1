import { Migration } from '@mikro-orm/migrations';

/**
 * Connection health and sync alerts (module `sis-sync`). `sis_connection_tokens` keeps when the SIS said the
 * last access token expires (seen during runs and connection tests). `sis_sync_alerts` keeps every alert
 * raised, with what was sent (ids, codes and counts only) and when each channel accepted it; `dedupe_key`
 * makes an alert happen once per run (failed, held) or once per failure streak, however often its event is seen.
 */
export class Migration20261125020000_sis_connection_health extends Migration {
  override up(): void {
    this.addSql(`
      CREATE TABLE sis_connection_tokens (
        connection_id uuid PRIMARY KEY,
        expires_at timestamptz NULL,
        observed_at timestamptz NOT NULL,
        CONSTRAINT sis_connection_tokens_connection_id_foreign
          FOREIGN KEY (connection_id) REFERENCES sis_connections (id) ON DELETE CASCADE
      )`);

    this.addSql(`
      CREATE TABLE sis_sync_alerts (
        id uuid PRIMARY KEY,
        connection_id uuid NOT NULL,
        run_id uuid NOT NULL,
        kind text NOT NULL,
        dedupe_key text NOT NULL,
        payload jsonb NOT NULL,
        delivered jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL,
        CONSTRAINT sis_sync_alerts_dedupe_key_unique UNIQUE (dedupe_key),
        CONSTRAINT sis_sync_alerts_kind_check CHECK (kind IN ('run_failed', 'run_held', 'consecutive_failures')),
        CONSTRAINT sis_sync_alerts_connection_id_foreign
          FOREIGN KEY (connection_id) REFERENCES sis_connections (id) ON DELETE CASCADE,
        CONSTRAINT sis_sync_alerts_run_id_foreign
          FOREIGN KEY (run_id) REFERENCES sis_sync_runs (id) ON DELETE CASCADE
      )`);
    this.addSql(
      'CREATE INDEX sis_sync_alerts_connection_created_index ON sis_sync_alerts (connection_id, created_at DESC)',
    );

    // Health reads a connection's runs by when they finished (last success, failures since).
    this.addSql(
      `CREATE INDEX sis_sync_runs_connection_finished_index ON sis_sync_runs (connection_id, finished_at DESC)
        WHERE NOT dry_run`,
    );
  }

  override down(): void {
    this.addSql('DROP INDEX sis_sync_runs_connection_finished_index');
    this.addSql('DROP TABLE sis_sync_alerts');
    this.addSql('DROP TABLE sis_connection_tokens');
  }
}
