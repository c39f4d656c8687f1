import { Migration } from '@mikro-orm/migrations';

/**
 * Every pull of enrollments and demographics reads a connection's person aliases (merged 1.1 per-role users,
 * remapped ids). Few people have any, but without an index each read scanned the whole people table: on a
 * 50k-student district that was most of a 1 % delta sync's time.
 */
export class Migration20261125071000_people_aliases_index extends Migration {
  override up(): void {
    this.addSql(
      `CREATE INDEX roster_people_aliases_index ON roster_people (connection_id) WHERE source_aliases <> '[]'::jsonb`,
    );
  }

  override down(): void {
    this.addSql('DROP INDEX roster_people_aliases_index');
  }
}
