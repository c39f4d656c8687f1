import { Migration } from '@mikro-orm/migrations';

/**
 * A staged record remembers the page of the pull it came from. A sync writes two pages at once on their own
 * connections, so a later page can commit before an earlier one; when a sourcedId appears on both (a listing that
 * shifted while it was paged), the version of the later page must still be the one kept.
 */
export class Migration20261125070000_staged_page_order extends Migration {
  override up(): void {
    this.addSql('ALTER TABLE roster_staged_records ADD COLUMN page integer NOT NULL DEFAULT 0');
  }

  override down(): void {
    this.addSql('ALTER TABLE roster_staged_records DROP COLUMN page');
  }
}
