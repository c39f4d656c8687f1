import { Migration } from '@mikro-orm/migrations';

/**
 * Locally owned roster fields (edits, FERPA directory opt-out, contact preferences), per-field sticky
 * overrides, and the before-images that let a sync run be restored.
 */
export class Migration20261125010000_local_edits_restore extends Migration {
  override up(): void {
    this.addSql(`
      ALTER TABLE roster_people
        ADD COLUMN local_overrides jsonb NOT NULL DEFAULT '{}',
        ADD COLUMN directory_opt_out boolean NOT NULL DEFAULT false,
        ADD COLUMN contact_preferences jsonb NOT NULL DEFAULT '{}'`);
    // Sync runs look for sticky conflicts only when a connection has local edits at all.
    this.addSql(
      `CREATE INDEX roster_people_local_edits_index ON roster_people (connection_id) WHERE local_overrides <> '{}'::jsonb`,
    );

    this.addSql(`
      CREATE TABLE roster_local_edits (
        id bigserial PRIMARY KEY,
        person_id uuid NOT NULL,
        field text NOT NULL,
        old_value jsonb NULL,
        new_value jsonb NULL,
        edited_by uuid NULL,
        edited_at timestamptz NOT NULL,
        CONSTRAINT roster_local_edits_person_id_foreign FOREIGN KEY (person_id) REFERENCES roster_people (id)
      )`);
    this.addSql('CREATE INDEX roster_local_edits_person_index ON roster_local_edits (person_id, id)');

    // Before-images of the records a run updated, restored or deactivated (its creates are the rows with
    // created_by_run), so the run can be reverted.
    this.addSql(`
      CREATE TABLE roster_change_log (
        id bigserial PRIMARY KEY,
        run_id uuid NOT NULL,
        entity text NOT NULL,
        record_id uuid NOT NULL,
        action text NOT NULL,
        before jsonb NOT NULL,
        CONSTRAINT roster_change_log_action_check CHECK (action IN ('updated', 'restored', 'deactivated'))
      )`);
    this.addSql('CREATE INDEX roster_change_log_run_index ON roster_change_log (run_id, entity, id)');

    this.addSql(`
      ALTER TABLE sis_sync_runs
        ADD COLUMN remaster boolean NOT NULL DEFAULT false,
        ADD COLUMN restored_at timestamptz NULL,
        ADD COLUMN restored_by uuid NULL,
        ADD COLUMN restore_summary jsonb NULL`);
  }

  override down(): void {
    this.addSql(
      'ALTER TABLE sis_sync_runs DROP COLUMN remaster, DROP COLUMN restored_at, DROP COLUMN restored_by, DROP COLUMN restore_summary',
    );
    this.addSql('DROP TABLE roster_change_log');
    this.addSql('DROP TABLE roster_local_edits');
    this.addSql(
      'ALTER TABLE roster_people DROP COLUMN local_overrides, DROP COLUMN directory_opt_out, DROP COLUMN contact_preferences',
    );
  }
}
