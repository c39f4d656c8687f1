import { Migration } from '@mikro-orm/migrations';

/**
 * CSV feeds become connections an administrator creates, so "the oldest `oneroster-csv` connection" no longer
 * says which one uploads without a `connectionId` land on. A flag says it: set on the connection uploads used
 * until now (whatever it has been renamed to), at most one live connection carries it, and only a CSV one.
 */
export class Migration20261209050000_csv_upload_default extends Migration {
  override up(): void {
    this.addSql('ALTER TABLE sis_connections ADD COLUMN csv_upload_default boolean NOT NULL DEFAULT false');
    this.addSql(`
      UPDATE sis_connections SET csv_upload_default = true
       WHERE id = (SELECT id FROM sis_connections WHERE provider = 'oneroster-csv' AND deleted_at IS NULL
                    ORDER BY created_at, id LIMIT 1)`);
    this.addSql(
      `ALTER TABLE sis_connections ADD CONSTRAINT sis_connections_csv_upload_default_check
         CHECK (NOT csv_upload_default OR provider = 'oneroster-csv')`,
    );
    this.addSql(
      `CREATE UNIQUE INDEX sis_connections_csv_upload_default_unique ON sis_connections (csv_upload_default)
         WHERE csv_upload_default AND deleted_at IS NULL`,
    );
  }

  override down(): void {
    this.addSql('ALTER TABLE sis_connections DROP COLUMN csv_upload_default');
  }
}
