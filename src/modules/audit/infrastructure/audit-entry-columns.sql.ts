/**
 * SQL that proves the columns `audit_event_payloads` keeps beside an entry's hashed text (`occurred_at`,
 * `action`, `outcome`, `actor_id`, `student_ids`: what the trail, the read models and their filters read) say
 * what the text says. Only the text is hashed, so without this a superuser could change who saw a student, or
 * turn a denied access into an allowed one, and the chain would still verify.
 *
 * It runs on every entry of the in-database verification pass, so it reads the text as text: no JSON parsing
 * (several times the cost of the hash, and `jsonb` refuses the `\u0000` escapes older entries may hold) and
 * nothing that can throw. It relies on the text being the canonical JSON of a version 1 entry (RFC 8785:
 * keys sorted, no whitespace), which the hash has already proved when this is evaluated:
 *
 *   {"action":…,"actor":{"id":…,"roles":[…],"schoolIds":[…],"type":…},"dataCategories":[…],"details":{…},
 *    "id":…,"occurredAt":…,"origin":{…strings…},"outcome":…,"purpose":…,"reason":…,"resource":{"id":…,"type":…},
 *    "studentIds":[…],"v":1}
 *
 * Inside a JSON string every `"` is escaped, so a `"` followed by `:` or preceded by `,` is structural: a
 * pattern such as `"outcome":"` can only be a key. `action` and `actor` come first and are found from the
 * start. Only `details` can hold arbitrary keys, and it comes before `occurredAt`; after the top-level
 * `occurredAt` no key of that name, `outcome` or `studentIds` can occur again (origin, purpose, reason and
 * resource hold strings only). So the top-level `occurredAt` is its last occurrence, and the rest is matched
 * after it (see afterOccurredAt). Every literal of a pattern can only match at its one structural place, so no
 * other column value passes.
 *
 * Columns are matched as they are stored: `actor_id` and `student_ids` as PostgreSQL prints a uuid (lower
 * case, as the capture writes them), `occurred_at` to the millisecond of its ISO text. `outcome` and `action`
 * are checked to be free of LIKE wildcards and JSON escapes before they are compared, so that a tampered value
 * cannot match by pattern; an action that needed escaping would be reported (none does).
 *
 * Functions are schema-qualified, like the rest of the verification SQL.
 */

const E = 'p.entry';

const ISO_TIME = `pg_catalog.to_char(p.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The student ids as the text lists them between `[` and `]`; a NULL element prints as NULL and never matches. */
const STUDENT_LIST = `CASE WHEN pg_catalog.cardinality(p.student_ids) = 0 THEN ''
  ELSE '"' || pg_catalog.array_to_string(p.student_ids, '","', 'NULL') || '"' END`;

/** The text after the last `"occurredAt":"` (the top-level key), found from the reversed text. */
const AFTER_LAST_OCCURRED_AT = `pg_catalog.substr(${E},
  pg_catalog.length(${E}) - pg_catalog.strpos(pg_catalog.reverse(${E}), '":"tAderrucco"') + 2)`;

/**
 * Whether what follows the top-level `"occurredAt":"` matches `pattern`, a LIKE pattern that ends with the
 * text's last characters (`,"v":1}`). Fast path: the text between the first `"occurredAt":"` and the next (or
 * the end) ends like that only when there is no next, so when it matches, the first is the top-level key.
 * Otherwise (details repeat the key, or a column disagrees) the text after the last one decides.
 */
function afterOccurredAt(pattern: string): string {
  return `(pg_catalog.split_part(${E}, '"occurredAt":"', 2) LIKE (${pattern})
    OR ${AFTER_LAST_OCCURRED_AT} LIKE (${pattern}))`;
}

/**
 * The actor's type is the last key of the actor object, which ends where the first `},"dataCategories":[` starts.
 * Matched as the end of the text before it: split_part and LIKE work on bytes, where strpos and substr count
 * characters from the start of the text (measured: half the cost of the whole column check went to this).
 */
const ACTOR_IS_USER = `pg_catalog.split_part(${E}, '},"dataCategories":[', 1) LIKE '%"type":"user"'`;

const COLUMN_CHECKS = {
  action: `pg_catalog.strpos(p.action, '"') = 0 AND pg_catalog.strpos(p.action, '\\') = 0
    AND pg_catalog.starts_with(${E}, '{"action":"' || p.action || '","actor":{"id":')`,
  // A user's id is stored; a system actor has none in the column (its entry may name one).
  actor_id: `CASE WHEN ${ACTOR_IS_USER}
    THEN pg_catalog.strpos(${E}, '","actor":{"id":') > 0
      AND pg_catalog.strpos(${E}, '","actor":{"id":')
        = pg_catalog.strpos(${E}, '","actor":{"id":' || coalesce('"' || p.actor_id::text || '",', 'null,'))
    ELSE p.actor_id IS NULL END`,
  occurred_at: `pg_catalog.date_trunc('milliseconds', p.occurred_at) = p.occurred_at
    AND ${afterOccurredAt(`${ISO_TIME} || '","origin":{%,"v":1}'`)}`,
  outcome: `p.outcome IN ('allowed', 'denied', 'failed')
    AND ${afterOccurredAt(`'%","origin":{%"outcome":"' || p.outcome || '","purpose":%,"v":1}'`)}`,
  student_ids: `coalesce(pg_catalog.array_ndims(p.student_ids), 1) = 1
    AND ${afterOccurredAt(`'%"studentIds":[' || ${STUDENT_LIST} || '],"v":1}'`)}`,
} as const;

/** The columns checked, by name. */
export const ENTRY_COLUMNS = Object.keys(COLUMN_CHECKS) as (keyof typeof COLUMN_CHECKS)[];

/**
 * True when every column of payload row `p` agrees with `p.entry` (false, never NULL or an error, otherwise):
 * the same as every check of COLUMN_CHECKS, with fewer calls (action and actor id are one prefix; the three
 * columns stored after the details are one LIKE).
 */
export const ENTRY_COLUMNS_MATCH_SQL = `coalesce(
  pg_catalog.strpos(p.action, '"') = 0 AND pg_catalog.strpos(p.action, '\\') = 0
  AND CASE WHEN ${ACTOR_IS_USER}
    THEN pg_catalog.starts_with(${E},
      '{"action":"' || p.action || '","actor":{"id":' || coalesce('"' || p.actor_id::text || '",', 'null,'))
    ELSE p.actor_id IS NULL AND pg_catalog.starts_with(${E}, '{"action":"' || p.action || '","actor":{"id":') END
  AND p.outcome IN ('allowed', 'denied', 'failed')
  AND pg_catalog.date_trunc('milliseconds', p.occurred_at) = p.occurred_at
  AND coalesce(pg_catalog.array_ndims(p.student_ids), 1) = 1
  AND ${afterOccurredAt(
    `${ISO_TIME} || '","origin":{%"outcome":"' || p.outcome || '","purpose":%"studentIds":[' || ${STUDENT_LIST} || '],"v":1}'`,
  )}, false)`;

/** The names of the columns of payload row `p` that disagree with `p.entry`, as a text[] (empty when all agree). */
export const MISMATCHED_COLUMNS_SQL = `pg_catalog.array_remove(ARRAY[${ENTRY_COLUMNS.map(
  (column) => `CASE WHEN coalesce(${COLUMN_CHECKS[column]}, false) THEN NULL ELSE '${column}' END`,
).join(', ')}]::text[], NULL)`;
