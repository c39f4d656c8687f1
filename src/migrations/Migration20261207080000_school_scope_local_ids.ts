import { Migration } from '@mikro-orm/migrations';

/**
 * Users' school scopes become schools' local ids. Until now an entry could be a sourcedId, which matched the
 * school with that sourcedId in every SIS connection, so a school admin of `org-sch-001` also saw a namesake
 * school of another connection. Each entry that is a school's local id stays; a sourcedId that exactly one
 * school has becomes that school's local id; anything else (a sourcedId several connections share, or one no
 * school has) is left as it is and grants nothing any more, since scopes now match local ids only: an
 * administrator sees it on the user and replaces it (setting it again is refused with
 * IDENTITY.SCHOOL_SCOPE_AMBIGUOUS or IDENTITY.SCHOOL_SCOPE_UNKNOWN). Safe to run again.
 */
export const RESOLVE_SCHOOL_SCOPES_SQL = `
  WITH entries AS (
    SELECT u.id AS user_id, entry.value, entry.position
      FROM users u
      CROSS JOIN LATERAL jsonb_array_elements_text(u.school_ids) WITH ORDINALITY AS entry (value, position)
  ), resolved AS (
    SELECT e.user_id, e.position,
           coalesce(
             (SELECT o.id::text FROM roster_orgs o WHERE o.type = 'school' AND o.id::text = lower(e.value)),
             (SELECT min(o.id::text) FROM roster_orgs o WHERE o.type = 'school' AND o.sourced_id = e.value
              HAVING count(*) = 1),
             e.value) AS value
      FROM entries e
  ), deduplicated AS (
    SELECT user_id, value, min(position) AS position FROM resolved GROUP BY user_id, value
  ), scopes AS (
    SELECT user_id, jsonb_agg(to_jsonb(value) ORDER BY position) AS school_ids FROM deduplicated GROUP BY user_id
  )
  UPDATE users u SET school_ids = s.school_ids
    FROM scopes s
   WHERE u.id = s.user_id AND u.school_ids IS DISTINCT FROM s.school_ids`;

export class Migration20261207080000_school_scope_local_ids extends Migration {
  override up(): void {
    this.addSql(RESOLVE_SCHOOL_SCOPES_SQL);
  }

  override down(): void {
    // Forward-only: the sourcedIds the local ids replaced are not kept.
  }
}
