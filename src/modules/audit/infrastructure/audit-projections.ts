/**
 * The audit read models. Each declares the table it fills, a version (bump it when `apply` changes: the
 * projector then empties the table and replays the stream into it) and one idempotent INSERT … SELECT that
 * projects the entries with `$1 < seq <= $2` straight from `audit_event_payloads` (purged entries have no
 * payload, so they are skipped). Replaying a range twice changes nothing.
 *
 * Entries are untrusted text to a projection: they are read as jsonb only through `audit_entry_jsonb`, which
 * never throws (entries stored before they were made storable may hold `\u0000`, which `::jsonb` refuses). The
 * projector still isolates an entry a projection fails on (see `PostgresAuditProjector`).
 */
export interface AuditProjection {
  table: string;
  version: number;
  apply: string;
}

export const AUDIT_PROJECTIONS: readonly AuditProjection[] = [
  {
    // Who touched which student's records: every entry that names students, allowed, denied or failed.
    table: 'audit_access_by_student',
    version: 1,
    apply: `
      INSERT INTO audit_access_by_student (student_id, seq, occurred_at, actor_id, action, outcome)
      SELECT s.student_id, p.seq, p.occurred_at, p.actor_id, p.action, p.outcome
        FROM audit_event_payloads p CROSS JOIN LATERAL unnest(p.student_ids) AS s (student_id)
       WHERE p.seq > $1 AND p.seq <= $2
      ON CONFLICT DO NOTHING`,
  },
  {
    // What a signed-in user did (system entries have no actor id).
    table: 'audit_access_by_actor',
    version: 1,
    apply: `
      INSERT INTO audit_access_by_actor (actor_id, seq, occurred_at, action, outcome, student_count)
      SELECT p.actor_id, p.seq, p.occurred_at, p.action, p.outcome, cardinality(p.student_ids)
        FROM audit_event_payloads p
       WHERE p.seq > $1 AND p.seq <= $2 AND p.actor_id IS NOT NULL
      ON CONFLICT DO NOTHING`,
  },
  {
    // Refused accesses with the stable error code that refused them.
    table: 'audit_denied_access',
    version: 1,
    apply: `
      INSERT INTO audit_denied_access (seq, occurred_at, actor_id, action, reason)
      SELECT p.seq, p.occurred_at, p.actor_id, p.action,
             coalesce(nullif(audit_entry_jsonb(p.entry) ->> 'reason', ''), 'UNSPECIFIED')
        FROM audit_event_payloads p
       WHERE p.seq > $1 AND p.seq <= $2 AND p.outcome = 'denied'
      ON CONFLICT DO NOTHING`,
  },
  {
    // 99.32 disclosures per student; the entry's resource id is the disclosure record's id.
    table: 'audit_disclosure_log',
    version: 1,
    apply: `
      INSERT INTO audit_disclosure_log (student_id, seq, disclosure_id, occurred_at)
      SELECT s.student_id, d.seq, d.disclosure_id::uuid, d.occurred_at
        FROM (SELECT p.seq, p.occurred_at, p.student_ids, audit_entry_jsonb(p.entry) -> 'resource' ->> 'id' AS disclosure_id
                FROM audit_event_payloads p
               WHERE p.seq > $1 AND p.seq <= $2 AND p.action = 'disclosure.recorded' AND p.outcome = 'allowed') d
        CROSS JOIN LATERAL unnest(d.student_ids) AS s (student_id)
       WHERE d.disclosure_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
      ON CONFLICT DO NOTHING`,
  },
];

/** The row in `audit_projection_positions` that holds a projection's position. */
export function positionName(projection: AuditProjection): string {
  return `${projection.table}@v${projection.version}`;
}
