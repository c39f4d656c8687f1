import { Migration } from '@mikro-orm/migrations';

/**
 * Issue 20 §6 and §8. A CSV import's run keeps the name its file was uploaded under (sanitised; storage keeps its
 * own random name), so the run's source names the file the district sent. Every connection gets the default
 * rejected-records hold (`thresholds['*'].reject`, 10 % of an entity's pulled records) unless its `*` rule
 * already says something about `reject`, as new connections get it: a listing the source mostly refused is held
 * for review instead of being applied as a quiet success. Safe to run again.
 */
export class Migration20261209040000_run_upload_name_reject_hold extends Migration {
  override up(): void {
    this.addSql('ALTER TABLE sis_sync_runs ADD COLUMN IF NOT EXISTS import_file_name text NULL');
    this.addSql(`
      UPDATE sis_connections
         SET settings = jsonb_set(
               settings,
               ARRAY['thresholds', '*'],
               coalesce(settings #> ARRAY['thresholds', '*'], '{}'::jsonb) || '{"reject": {"maxPercent": 10}}'::jsonb,
               true)
       WHERE jsonb_typeof(settings -> 'thresholds') = 'object'
         AND settings #> ARRAY['thresholds', '*', 'reject'] IS NULL`);
  }

  override down(): void {
    this.addSql('ALTER TABLE sis_sync_runs DROP COLUMN IF EXISTS import_file_name');
  }
}
