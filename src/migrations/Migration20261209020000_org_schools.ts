import { Migration } from '@mikro-orm/migrations';

/**
 * The school each org belongs to (issue 20 §2): a school itself, a department the nearest school among its parents
 * (any number of levels), anything else none. Read scopes place the classes and people of a department in that
 * school; the sync refreshes it after applying orgs (`RosterMirror.resolveOrgSchools`). Filled here for the orgs
 * already mirrored.
 */
export class Migration20261209020000_org_schools extends Migration {
  override up(): void {
    this.addSql('ALTER TABLE roster_orgs ADD COLUMN school_sourced_id text NULL');
    this.addSql('CREATE INDEX roster_orgs_school_index ON roster_orgs (connection_id, school_sourced_id)');
    this.addSql(`
      WITH RECURSIVE walk AS (
        SELECT o.connection_id, o.sourced_id AS org, o.sourced_id AS at, o.type, o.parent_sourced_id, 0 AS depth
          FROM roster_orgs o WHERE o.type IN ('school', 'department')
        UNION ALL
        SELECT w.connection_id, w.org, p.sourced_id, p.type, p.parent_sourced_id, w.depth + 1
          FROM walk w JOIN roster_orgs p ON p.connection_id = w.connection_id AND p.sourced_id = w.parent_sourced_id
         WHERE w.type = 'department' AND w.depth < 32
      )
      UPDATE roster_orgs t SET school_sourced_id = r.school
        FROM (SELECT DISTINCT ON (connection_id, org) connection_id, org, at AS school
                FROM walk WHERE type = 'school' ORDER BY connection_id, org, depth) r
       WHERE t.connection_id = r.connection_id AND t.sourced_id = r.org`);
  }

  override down(): void {
    this.addSql('ALTER TABLE roster_orgs DROP COLUMN school_sourced_id');
  }
}
