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
 * resource hold strings only). So the top-level `occurredAt` is its last occurrence: when the text holds just
 * one (the fast path, a single LIKE) the rest is matched after it, and otherwise after the last one, found from
 * the reversed text. Every comparison checks one extracted value for equality, so no other column value passes.
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

/** True when the text names "occurredAt" once: then the one occurrence is the top-level key. */
const ONE_OCCURRED_AT = `${E} NOT LIKE '%"occurredAt":"%"occurredAt":"%'`;

/** The text after the last `"occurredAt":"` (the top-level key), for texts whose details repeat the key. */
const AFTER_LAST_OCCURRED_AT = `pg_catalog.substr(${E},
  pg_catalog.length(${E}) - pg_catalog.strpos(pg_catalog.reverse(${E}), '":"tAderrucco"') + 2)`;

/** Whether what follows the top-level `"occurredAt":"` matches `pattern` (a LIKE pattern anchored at both ends). */
function afterOccurredAt(pattern: string): string {
  return `CASE WHEN ${ONE_OCCURRED_AT} THEN ${E} LIKE ('%"occurredAt":"' || ${pattern})
    ELSE ${AFTER_LAST_OCCURRED_AT} LIKE (${pattern}) END`;
}

/** The actor's type is the last key of the actor object, which ends where the first `},"dataCategories":[` starts. */
const ACTOR_IS_USER = `pg_catalog.substr(${E}, pg_catalog.strpos(${E}, '},"dataCategories":[') - 13, 13) = '"type":"user"'`;

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
    AND ${afterOccurredAt(`${ISO_TIME} || '","origin":{%'`)}`,
  outcome: `p.outcome IN ('allowed', 'denied', 'failed')
    AND ${afterOccurredAt(`'%","origin":{%"outcome":"' || p.outcome || '","purpose":%'`)}`,
  student_ids: `coalesce(pg_catalog.array_ndims(p.student_ids), 1) = 1
    AND ${afterOccurredAt(`'%"studentIds":[' || ${STUDENT_LIST} || '],"v":1}'`)}`,
} as const;

/** The columns checked, by name. */
export const ENTRY_COLUMNS = Object.keys(COLUMN_CHECKS) as (keyof typeof COLUMN_CHECKS)[];

/**
 * True when every column of payload row `p` agrees with `p.entry` (false, never NULL or an error, otherwise).
 * The three columns stored after the details are matched by one LIKE.
 */
export const ENTRY_COLUMNS_MATCH_SQL = `coalesce(
  ${COLUMN_CHECKS.action}
  AND ${COLUMN_CHECKS.actor_id}
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
