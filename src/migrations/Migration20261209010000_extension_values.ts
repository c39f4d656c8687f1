import { Migration } from '@mikro-orm/migrations';

/** Mirror tables whose records carry OneRoster enumerated vocabularies that 1.2 lets a source extend. */
const TABLES = [
  'roster_orgs',
  'roster_academic_sessions',
  'roster_classes',
  'roster_demographics',
  'roster_enrollments',
];

/**
 * OneRoster 1.2 extension values (`ext:…`) as the source gave them, by field (`{"type": "ext:campus"}`), beside the
 * typed columns that hold the meaning the product uses (`type = 'school'` when the connection maps `ext:campus` to
 * school, the extension value itself when it maps it to nothing). A person's are on its `roles` (`sourceRole`).
 * Nullable: reverting a run restores before-images logged before this column existed, which have none.
 */
export class Migration20261209010000_extension_values extends Migration {
  override up(): void {
    for (const table of TABLES) {
      this.addSql(`ALTER TABLE ${table} ADD COLUMN extension_values jsonb NULL DEFAULT '{}'`);
    }
  }

  override down(): void {
    for (const table of TABLES) this.addSql(`ALTER TABLE ${table} DROP COLUMN extension_values`);
  }
}
