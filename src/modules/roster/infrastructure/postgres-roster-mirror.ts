import {
  ROSTER_APPLY_ORDER,
  type PersonRecord,
  type PersonRole,
  type RosterEntity,
  type RosterRecord,
} from '@app/contracts';
import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import {
  RosterMirror,
  type ApplyChunkResult,
  type ChangeSetKey,
  type DeactivationScope,
  type EntityChangePreview,
  type ApplyOptions,
  type RestoreOptions,
  type RestoreResult,
  type ReferenceWarning,
  type StickyConflict,
  type UnresolvedReference,
} from '../application/ports/roster-mirror.port.js';
import { personSearchText } from '../domain/person-search-text.js';
import {
  LOCALLY_EDITABLE_PERSON_COLUMNS,
  MIRROR_TABLES,
  type MirrorReference,
  type MirrorTable,
} from './roster-mirror.tables.js';

const SAMPLE_SIZE = 5;

interface PreviewSample {
  action: 'create' | 'update' | 'restore' | 'skip';
  ids: string[];
}
/**
 * A connection's rows the statistics may miss before its mirror table is analysed again: fewer cost nothing to
 * read even by a poor plan, and an ANALYZE of a large table shared with other connections costs a few hundred ms.
 */
const STALE_STATISTICS_MIN_ROWS = 1000;
/** The staged status of a record the listing holds but that could not be read (see `stageUnreadable`). */
const UNREADABLE = 'unreadable';
/** What a restore puts back besides the entity's own columns (never local edits, never the identity). */
const RESTORED_COLUMNS = [
  'status',
  'source_modified_at',
  'source_hash',
  'metadata',
  'updated_by_run',
  'deactivated_at',
  'deactivated_by_run',
  'updated_at',
];
/** A staged record's hash ignores bookkeeping fields, so only real changes count as updates. */
// The same text as `payload - 'dateLastModified' - 'status'` (stored hashes stay valid), with one copy of the payload.
const contentHash = (payload: string): string => `md5((${payload} - '{dateLastModified,status}'::text[])::text)`;
const ROLE_PRIORITY: readonly PersonRole[] = [
  'student',
  'teacher',
  'districtAdministrator',
  'siteAdministrator',
  'systemAdministrator',
  'administrator',
  'principal',
  'counselor',
  'aide',
  'proctor',
  'guardian',
  'parent',
  'relative',
];

/** The mirror on PostgreSQL: set-based statements over the staged change set, chunked by sourcedId. */
@Injectable()
export class PostgresRosterMirror extends RosterMirror {
  constructor(private readonly em: EntityManager) {
    super();
  }

  async stage<E extends RosterEntity>(
    key: ChangeSetKey,
    entity: E,
    records: readonly RosterRecord<E>[],
    page = 0,
  ): Promise<void> {
    if (records.length === 0) return;
    const latest = new Map<string, RosterRecord<E>>();
    for (const record of records) latest.set(record.sourcedId, record);
    // In sourcedId order: two pages written at once that share records then lock them in the same order, so they
    // wait for each other instead of deadlocking.
    const rows = [...latest.values()].sort((left, right) =>
      left.sourcedId < right.sourcedId ? -1 : left.sourcedId > right.sourcedId ? 1 : 0,
    );
    const searchTexts = entity === 'people' ? rows.map((row) => personSearchText(row as PersonRecord)) : null;
    await runSql(
      this.em,
      `INSERT INTO roster_staged_records AS r (run_id, entity, sourced_id, status, source_hash, payload, search_text, page)
       SELECT $1, $2, e.p->>'sourcedId', e.p->>'status', ${contentHash('e.p')}, e.p, s.t, $5
         FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(p, i)
         LEFT JOIN unnest($4::text[]) WITH ORDINALITY AS s(t, i) ON s.i = e.i
       ON CONFLICT (run_id, entity, sourced_id) DO UPDATE
         SET status = EXCLUDED.status, source_hash = EXCLUDED.source_hash,
             payload = EXCLUDED.payload, search_text = EXCLUDED.search_text, page = EXCLUDED.page
         WHERE r.page <= EXCLUDED.page OR r.status = '${UNREADABLE}'`,
      [key.changeSetId, entity, JSON.stringify(rows), searchTexts, page],
    );
  }

  async stageUnreadable(
    key: ChangeSetKey,
    entity: RosterEntity,
    sourcedIds: readonly string[],
    page = 0,
  ): Promise<void> {
    if (sourcedIds.length === 0) return;
    // Sorted for the same lock order as `stage`; a readable version already staged is kept.
    await runSql(
      this.em,
      `INSERT INTO roster_staged_records (run_id, entity, sourced_id, status, source_hash, payload, search_text, page)
       SELECT $1, $2, id, '${UNREADABLE}', '', jsonb_build_object('sourcedId', id), NULL, $4
         FROM (SELECT DISTINCT unnest($3::text[]) AS id ORDER BY 1) ids
       ON CONFLICT (run_id, entity, sourced_id) DO NOTHING`,
      [key.changeSetId, entity, [...sourcedIds], page],
    );
  }

  async discardStaged(changeSetId: string, entity?: RosterEntity): Promise<void> {
    await runSql(this.em, `DELETE FROM roster_staged_records WHERE run_id = $1 AND ($2::text IS NULL OR entity = $2)`, [
      changeSetId,
      entity ?? null,
    ]);
  }

  async refreshStagedStatistics(): Promise<void> {
    // The staging table fills from empty during a run; without fresh statistics the planner estimates one row
    // per change set and picks nested loops that turn quadratic on large districts.
    // Only the columns the preview and apply filter and join on: the payloads are what makes a full ANALYZE slow.
    // Through the owner's `refresh_table_statistics`: before PostgreSQL 17 only a table's owner may ANALYZE it, and the
    // service's role owns nothing (it would get a warning and no statistics).
    await runSql(this.em, 'SELECT refresh_table_statistics($1::regclass, $2::text[])', [
      'roster_staged_records',
      ['run_id', 'entity', 'sourced_id', 'status'],
    ]);
  }

  async refreshMirrorStatistics(key: ChangeSetKey, entity: RosterEntity, rows: number): Promise<void> {
    const { table, plannedOn = [] } = MIRROR_TABLES[entity];
    // What the plans of this connection's lookups depend on is how many of the table's rows the statistics give
    // the connection, not the table's size: a second district imported under another connection of the same
    // database is taken for empty (its id is not among the analysed values) while it grows, and the planner then
    // looks each record up through an index on `connection_id` alone, reading all of the connection's rows for
    // every record (issue 20: 27× slower). The planner's own estimate is asked, so rows any connection wrote since
    // the last analysis count the same; `n_mod_since_analyze` would not do, as an ANALYZE of some columns (the one
    // below) never resets it.
    const believed = await this.plannedRows(table, key.connectionId);
    // The statistics already expect at least half the rows this run applies (or has applied): nothing to count.
    if (believed >= rows / 2) return;
    // Otherwise count the connection's rows, up to twice the estimate (a few index entries when it is tiny): a
    // first sync before its first chunk has none, a resumed or second district's apply has more than believed.
    const limit = Math.max(2 * Math.ceil(believed), STALE_STATISTICS_MIN_ROWS);
    const [present] = await runSql<{ count: number }>(
      this.em,
      `SELECT count(*)::int AS count FROM (SELECT 1 FROM ${table} WHERE connection_id = $1 LIMIT $2) c`,
      [key.connectionId, limit],
    );
    if ((present?.count ?? 0) < limit) return;
    // The row count and the lookup columns are what the sync's plans depend on; sampling only those costs a
    // fifth of a full ANALYZE (the rest is left to autovacuum).
    await runSql(this.em, 'SELECT refresh_table_statistics($1::regclass, $2::text[])', [
      table,
      ['connection_id', 'sourced_id', 'status', ...plannedOn],
    ]);
  }

  /** The rows of a mirror table the planner expects for a connection (from the statistics, the table's pages). */
  private async plannedRows(table: string, connectionId: string): Promise<number> {
    const [row] = await runSql<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
      this.em,
      `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${table} WHERE connection_id = $1`,
      [connectionId],
    );
    return Number(row?.['QUERY PLAN'][0]?.Plan['Plan Rows'] ?? 0);
  }

  async stagedCount(changeSetId: string, entity: RosterEntity): Promise<number> {
    const [row] = await runSql<{ count: string }>(
      this.em,
      'SELECT count(*) AS count FROM roster_staged_records WHERE run_id = $1 AND entity = $2',
      [changeSetId, entity],
    );
    return Number(row?.count ?? 0);
  }

  async unstagedEntities(changeSetId: string, entities: readonly RosterEntity[]): Promise<RosterEntity[]> {
    if (entities.length === 0) return [];
    const rows = await runSql<{ entity: RosterEntity }>(
      this.em,
      `SELECT e.entity FROM unnest($2::text[]) AS e(entity)
        WHERE NOT EXISTS (SELECT 1 FROM roster_staged_records s WHERE s.run_id = $1 AND s.entity = e.entity)`,
      [changeSetId, entities],
    );
    return rows.map((row) => row.entity);
  }

  async mergeStagedPeople(key: ChangeSetKey, rule: 'identifier' | 'ic-role-prefix'): Promise<number> {
    const mergeKey =
      rule === 'ic-role-prefix'
        ? `regexp_replace(sourced_id, '^[A-Za-z](?=[0-9])', '')`
        : `nullif(btrim(payload->>'identifier'), '')`;
    const groups = await runSql<{ merge_key: string; payloads: PersonRecord[] }>(
      this.em,
      `SELECT merge_key, json_agg(payload ORDER BY sourced_id) AS payloads
         FROM (SELECT ${mergeKey} AS merge_key, sourced_id, payload
                 FROM roster_staged_records WHERE run_id = $1 AND entity = 'people' AND status <> '${UNREADABLE}') keyed
        WHERE merge_key IS NOT NULL
        GROUP BY merge_key HAVING count(*) > 1`,
      [key.changeSetId],
    );
    let folded = 0;
    const merged: PersonRecord[] = [];
    for (const group of groups) {
      const canonicalId = rule === 'ic-role-prefix' ? group.merge_key : group.payloads[0].sourcedId;
      merged.push(mergePeople(canonicalId, group.payloads));
      folded += group.payloads.length - 1;
    }
    for (let start = 0; start < groups.length; start += 1000) {
      const slice = groups.slice(start, start + 1000);
      await runSql(
        this.em,
        `DELETE FROM roster_staged_records WHERE run_id = $1 AND entity = 'people' AND sourced_id = ANY($2::text[])`,
        [key.changeSetId, slice.flatMap((group) => group.payloads.map((payload) => payload.sourcedId))],
      );
      await this.stage(key, 'people', merged.slice(start, start + 1000));
    }
    if (rule === 'ic-role-prefix') {
      // Every Infinite Campus 1.1 user id carries its role letter; the person is the id without it, so a
      // teacher who later also becomes a parent keeps one key.
      await runSql(
        this.em,
        `UPDATE roster_staged_records s
            SET sourced_id = r.canonical,
                payload = r.p,
                source_hash = ${contentHash('r.p')}
           FROM (SELECT sourced_id, regexp_replace(sourced_id, '^[A-Za-z](?=[0-9])', '') AS canonical,
                        jsonb_set(jsonb_set(payload, '{sourcedId}', to_jsonb(regexp_replace(sourced_id, '^[A-Za-z](?=[0-9])', ''))),
                                  '{sourceAliases}', coalesce(payload->'sourceAliases', '[]'::jsonb) || to_jsonb(sourced_id)) AS p
                   FROM roster_staged_records
                  WHERE run_id = $1 AND entity = 'people' AND sourced_id ~ '^[A-Za-z][0-9]' AND status <> '${UNREADABLE}') r
          WHERE s.run_id = $1 AND s.entity = 'people' AND s.sourced_id = r.sourced_id`,
        [key.changeSetId],
      );
      // An unreadable per-role user keeps the person it belongs to present (unless a readable record stands for it).
      await runSql(
        this.em,
        `WITH moved AS (
           DELETE FROM roster_staged_records
            WHERE run_id = $1 AND entity = 'people' AND status = '${UNREADABLE}' AND sourced_id ~ '^[A-Za-z][0-9]'
           RETURNING regexp_replace(sourced_id, '^[A-Za-z](?=[0-9])', '') AS id, page)
         INSERT INTO roster_staged_records (run_id, entity, sourced_id, status, source_hash, payload, search_text, page)
         SELECT DISTINCT ON (id) $1, 'people', id, '${UNREADABLE}', '', jsonb_build_object('sourcedId', id), NULL, page
           FROM moved ORDER BY id, page
         ON CONFLICT (run_id, entity, sourced_id) DO NOTHING`,
        [key.changeSetId],
      );
    }
    // Guardians and students point at each other by sourcedId: follow the merges and re-keys.
    await runSql(
      this.em,
      `WITH aliases AS (
         SELECT a.alias, s.sourced_id AS canonical
           FROM roster_staged_records s, jsonb_array_elements_text(coalesce(s.payload->'sourceAliases', '[]'::jsonb)) AS a(alias)
          WHERE s.run_id = $1 AND s.entity = 'people'
       ), rewritten AS (
         SELECT s.sourced_id,
                jsonb_set(s.payload, '{agentSourcedIds}',
                  (SELECT coalesce(jsonb_agg(DISTINCT coalesce(m.canonical, agent.id)), '[]'::jsonb)
                     FROM jsonb_array_elements_text(s.payload->'agentSourcedIds') AS agent(id)
                     LEFT JOIN aliases m ON m.alias = agent.id)) AS p
           FROM roster_staged_records s
          WHERE s.run_id = $1 AND s.entity = 'people' AND jsonb_array_length(coalesce(s.payload->'agentSourcedIds', '[]'::jsonb)) > 0
       )
       UPDATE roster_staged_records s SET payload = r.p, source_hash = ${contentHash('r.p')}
         FROM rewritten r
        WHERE s.run_id = $1 AND s.entity = 'people' AND s.sourced_id = r.sourced_id AND s.payload <> r.p`,
      [key.changeSetId],
    );
    return folded;
  }

  async personAliases(key: ChangeSetKey): Promise<Map<string, string>> {
    const rows = await runSql<{ alias: string; canonical: string }>(
      this.em,
      `SELECT a.alias, p.sourced_id AS canonical, 0 AS precedence
         FROM roster_people p, jsonb_array_elements_text(p.source_aliases) AS a(alias)
        WHERE p.connection_id = $2 AND p.source_aliases <> '[]'::jsonb
       UNION ALL
       SELECT a.alias, s.sourced_id, 1
         FROM roster_staged_records s, jsonb_array_elements_text(coalesce(s.payload->'sourceAliases', '[]'::jsonb)) AS a(alias)
        WHERE s.run_id = $1 AND s.entity = 'people'
       ORDER BY precedence`,
      [key.changeSetId, key.connectionId],
    );
    return new Map(rows.map((row) => [row.alias, row.canonical]));
  }

  async preview(
    key: ChangeSetKey,
    entity: RosterEntity,
    deactivation: DeactivationScope,
  ): Promise<EntityChangePreview> {
    const { table, references } = MIRROR_TABLES[entity];
    const { counts, samples } = references.some((reference) => reference.required)
      ? await this.checkedChanges(key, entity)
      : await this.changes(key, entity, table);
    const { where, params } = this.deactivationPredicate(key, entity, deactivation, 4);
    const [deactivations] = await runSql<{ count: string; ids: string[] | null }>(
      this.em,
      `SELECT count(*) AS count, (array_agg(t.sourced_id ORDER BY t.sourced_id))[1:${SAMPLE_SIZE}] AS ids
         FROM ${table} t WHERE ${where}`,
      [key.changeSetId, key.connectionId, entity, ...params],
    );
    const preview: EntityChangePreview = {
      create: Number(counts?.['create'] ?? 0),
      update: Number(counts?.['update'] ?? 0),
      restore: Number(counts?.['restore'] ?? 0),
      deactivate: Number(deactivations?.count ?? 0),
      unchanged: Number(counts?.['unchanged'] ?? 0),
      skip: Number(counts?.['skip'] ?? 0),
      activeBefore: Number(counts?.['active_before'] ?? 0),
      samples: {},
    };
    for (const sample of samples) if (sample.ids.length > 0) preview.samples[sample.action] = sample.ids;
    if (deactivations?.ids?.length) preview.samples.deactivate = deactivations.ids;
    return preview;
  }

  /** What the apply does to an entity without required references: it writes every changed record. */
  private async changes(
    key: ChangeSetKey,
    entity: RosterEntity,
    table: string,
  ): Promise<{ counts: Record<string, string> | undefined; samples: PreviewSample[] }> {
    const [counts] = await runSql<Record<string, string>>(
      this.em,
      `SELECT count(*) FILTER (WHERE s.status = 'active' AND t.id IS NULL) AS create,
              count(*) FILTER (WHERE s.status = 'active' AND t.status = 'active' AND t.source_hash <> s.source_hash) AS update,
              count(*) FILTER (WHERE s.status = 'active' AND t.status = 'inactive') AS restore,
              count(*) FILTER (WHERE s.status = 'active' AND t.status = 'active' AND t.source_hash = s.source_hash) AS unchanged,
              (SELECT count(*) FROM ${table} a WHERE a.connection_id = $3 AND a.status = 'active') AS active_before
         FROM roster_staged_records s
         LEFT JOIN ${table} t ON t.connection_id = $3 AND t.sourced_id = s.sourced_id
        WHERE s.run_id = $1 AND s.entity = $2`,
      [key.changeSetId, entity, key.connectionId],
    );
    const create = Number(counts?.['create'] ?? 0);
    // Every active staged record a create (a first sync): the samples are the first sourcedIds of the change set,
    // read from its index, instead of sorting all of them by action.
    const samples =
      create > 0 && ['update', 'restore', 'unchanged'].every((action) => Number(counts?.[action] ?? 0) === 0)
        ? await runSql<PreviewSample>(
            this.em,
            `SELECT 'create' AS action, array(SELECT s.sourced_id FROM roster_staged_records s
                                               WHERE s.run_id = $1 AND s.entity = $2 AND s.status = 'active'
                                               ORDER BY s.sourced_id LIMIT ${SAMPLE_SIZE}) AS ids`,
            [key.changeSetId, entity],
          )
        : await this.changeSamples(key, entity, table);
    return { counts, samples };
  }

  /**
   * What the apply does to an entity with required references: a changed record one of whose required references
   * is not available is a skip, not a create, update or restore. Available: an active mirror record, or an active
   * record of this change set that the apply writes (its own required references available in turn), since the
   * apply runs in dependency order. Each distinct reference is checked once.
   */
  private async checkedChanges(
    key: ChangeSetKey,
    entity: RosterEntity,
  ): Promise<{ counts: Record<string, string> | undefined; samples: PreviewSample[] }> {
    const { table, references } = MIRROR_TABLES[entity];
    const required = references.filter((reference) => reference.required);
    const missing = required.map(
      (reference, index) => `, missing_${index} AS MATERIALIZED (
        SELECT d.v FROM (SELECT DISTINCT c.ref_${index} AS v FROM changed c WHERE c.action <> 'unchanged') d
         WHERE d.v IS NOT NULL AND NOT ${availableSql(reference.entity, 'd.v', 0)})`,
    );
    const skipped = required
      .map((_, index) => `c.ref_${index} IS NULL OR c.ref_${index} IN (SELECT v FROM missing_${index})`)
      .join(' OR ');
    const sample = (action: string): string =>
      `array(SELECT k.sourced_id FROM classified k WHERE k.action = '${action}'
              ORDER BY k.sourced_id LIMIT ${SAMPLE_SIZE}) AS ${action}_ids`;
    const [row] = await runSql<Record<string, string> & Record<`${PreviewSample['action']}_ids`, string[]>>(
      this.em,
      `WITH changed AS MATERIALIZED (
         SELECT s.sourced_id,
                CASE WHEN t.id IS NULL THEN 'create' WHEN t.status = 'inactive' THEN 'restore'
                     WHEN t.source_hash <> s.source_hash THEN 'update' ELSE 'unchanged' END AS action,
                ${required.map((reference, index) => `${reference.value('s.payload')} AS ref_${index}`).join(', ')}
           FROM roster_staged_records s
           LEFT JOIN ${table} t ON t.connection_id = $3 AND t.sourced_id = s.sourced_id
          WHERE s.run_id = $1 AND s.entity = $2 AND s.status = 'active'
       )${missing.join('')}, classified AS MATERIALIZED (
         SELECT c.sourced_id, CASE WHEN c.action <> 'unchanged' AND (${skipped}) THEN 'skip' ELSE c.action END AS action
           FROM changed c
       )
       SELECT count(*) FILTER (WHERE action = 'create') AS create,
              count(*) FILTER (WHERE action = 'update') AS update,
              count(*) FILTER (WHERE action = 'restore') AS restore,
              count(*) FILTER (WHERE action = 'unchanged') AS unchanged,
              count(*) FILTER (WHERE action = 'skip') AS skip,
              (SELECT count(*) FROM ${table} a WHERE a.connection_id = $3 AND a.status = 'active') AS active_before,
              ${(['create', 'update', 'restore', 'skip'] as const).map(sample).join(', ')}
         FROM classified`,
      [key.changeSetId, entity, key.connectionId],
    );
    const samples = (['create', 'update', 'restore', 'skip'] as const).map((action) => ({
      action,
      ids: row?.[`${action}_ids`] ?? [],
    }));
    return { counts: row, samples };
  }

  /** The first sourcedIds of each create, update and restore of an entity's change set. */
  private changeSamples(key: ChangeSetKey, entity: RosterEntity, table: string): Promise<PreviewSample[]> {
    return runSql(
      this.em,
      `SELECT action, (array_agg(sourced_id ORDER BY sourced_id))[1:${SAMPLE_SIZE}] AS ids
         FROM (SELECT s.sourced_id,
                      CASE WHEN t.id IS NULL THEN 'create' WHEN t.status = 'inactive' THEN 'restore'
                           WHEN t.source_hash <> s.source_hash THEN 'update' END AS action
                 FROM roster_staged_records s
                 LEFT JOIN ${table} t ON t.connection_id = $3 AND t.sourced_id = s.sourced_id
                WHERE s.run_id = $1 AND s.entity = $2 AND s.status = 'active') changes
        WHERE action IS NOT NULL GROUP BY action`,
      [key.changeSetId, entity, key.connectionId],
    );
  }

  async countRemappedPeople(key: ChangeSetKey): Promise<number> {
    const [row] = await runSql<{ count: string }>(
      this.em,
      `${REMAPPED_PEOPLE} SELECT count(*) AS count FROM remapped`,
      [key.changeSetId, key.connectionId],
    );
    return Number(row?.count ?? 0);
  }

  async remapPeople(key: ChangeSetKey): Promise<number> {
    const rows = await runSql<{ old_id: string; new_id: string }>(
      this.em,
      `${REMAPPED_PEOPLE}
       UPDATE roster_people t
          SET sourced_id = r.new_id, source_aliases = t.source_aliases || to_jsonb(t.sourced_id),
              updated_by_run = $1, updated_at = now()
         FROM remapped r WHERE t.id = r.person_id
       RETURNING r.old_id, r.new_id`,
      [key.changeSetId, key.connectionId],
    );
    if (rows.length === 0) return 0;
    const oldIds = rows.map((row) => row.old_id);
    const newIds = rows.map((row) => row.new_id);
    await runSql(
      this.em,
      `UPDATE roster_demographics d SET sourced_id = m.new_id, updated_by_run = $1, updated_at = now()
         FROM unnest($3::text[], $4::text[]) AS m(old_id, new_id)
        WHERE d.connection_id = $2 AND d.sourced_id = m.old_id
          AND NOT EXISTS (SELECT 1 FROM roster_demographics x WHERE x.connection_id = $2 AND x.sourced_id = m.new_id)`,
      [key.changeSetId, key.connectionId, oldIds, newIds],
    );
    await runSql(
      this.em,
      `UPDATE roster_enrollments e SET user_sourced_id = m.new_id, updated_at = now()
         FROM unnest($2::text[], $3::text[]) AS m(old_id, new_id)
        WHERE e.connection_id = $1 AND e.user_sourced_id = m.old_id`,
      [key.connectionId, oldIds, newIds],
    );
    return rows.length;
  }

  async chunkBounds(
    key: ChangeSetKey,
    entity: RosterEntity,
    afterSourcedId: string | null,
    size: number,
  ): Promise<string[]> {
    const rows = await runSql<{ sourced_id: string }>(
      this.em,
      `WITH numbered AS (
         SELECT s.sourced_id, row_number() OVER (ORDER BY s.sourced_id) AS n
           FROM roster_staged_records s
          WHERE s.run_id = $1 AND s.entity = $2 AND s.status = 'active' AND s.sourced_id > $3
       )
       SELECT sourced_id FROM numbered WHERE n % $4 = 0
       UNION
       SELECT max(s.sourced_id) FROM roster_staged_records s
        WHERE s.run_id = $1 AND s.entity = $2 AND s.status = 'active' AND s.sourced_id > $3
          HAVING max(s.sourced_id) IS NOT NULL
       ORDER BY sourced_id`,
      [key.changeSetId, entity, afterSourcedId ?? '', size],
    );
    return rows.map((row) => row.sourced_id);
  }

  async applyChunk(
    key: ChangeSetKey,
    entity: RosterEntity,
    afterSourcedId: string | null,
    limit: number,
    options: ApplyOptions = { fieldOwnership: {}, remaster: false },
    throughSourcedId: string | null = null,
  ): Promise<ApplyChunkResult> {
    const spec = MIRROR_TABLES[entity];
    // The statement's estimated cost passes the JIT threshold, and compiling it (~100 ms) would cost more than
    // running it; LOCAL keeps the setting inside the chunk's transaction.
    await runSql(this.em, `SET LOCAL jit = off`);
    const [row] = await runSql<{
      last_sourced_id: string | null;
      processed: number;
      changes: { created: string[]; updated: string[]; restored: string[] } | null;
      unresolved: UnresolvedReference[];
      warnings: ReferenceWarning[];
      conflicts: StickyConflict[];
    }>(this.em, buildApplySql(spec, entity === 'people' ? options : null), [
      key.changeSetId,
      entity,
      afterSourcedId ?? '',
      limit,
      key.connectionId,
      throughSourcedId,
    ]);
    const result: ApplyChunkResult = {
      lastSourcedId: row?.last_sourced_id ?? null,
      processed: Number(row?.processed ?? 0),
      created: row?.changes?.created ?? [],
      updated: row?.changes?.updated ?? [],
      restored: row?.changes?.restored ?? [],
      unchanged: 0,
      unresolved: row?.unresolved ?? [],
      warnings: row?.warnings ?? [],
      conflicts: row?.conflicts ?? [],
    };
    result.unchanged =
      result.processed -
      result.created.length -
      result.updated.length -
      result.restored.length -
      result.unresolved.length;
    return result;
  }

  async resolveOrgSchools(key: ChangeSetKey): Promise<void> {
    // Walks up from each school and department through departments only (a department under a district belongs to
    // no school); depth-bounded, so a cycle of parents ends.
    await runSql(
      this.em,
      `WITH RECURSIVE walk AS (
         SELECT o.sourced_id AS org, o.sourced_id AS at, o.type, o.parent_sourced_id, 0 AS depth
           FROM roster_orgs o WHERE o.connection_id = $1 AND o.type IN ('school', 'department')
         UNION ALL
         SELECT w.org, p.sourced_id, p.type, p.parent_sourced_id, w.depth + 1
           FROM walk w JOIN roster_orgs p ON p.connection_id = $1 AND p.sourced_id = w.parent_sourced_id
          WHERE w.type = 'department' AND w.depth < 32
       ), resolved AS (
         SELECT o.id, (SELECT w.at FROM walk w WHERE w.org = o.sourced_id AND w.type = 'school'
                        ORDER BY w.depth LIMIT 1) AS school
           FROM roster_orgs o WHERE o.connection_id = $1
       )
       UPDATE roster_orgs t SET school_sourced_id = r.school
         FROM resolved r WHERE t.id = r.id AND t.school_sourced_id IS DISTINCT FROM r.school`,
      [key.connectionId],
    );
  }

  async restoreRun(key: ChangeSetKey, options: RestoreOptions): Promise<RestoreResult> {
    const result: RestoreResult = { counts: {}, conflicts: [], changed: {} };
    for (const entity of [...ROSTER_APPLY_ORDER].reverse()) {
      const spec = MIRROR_TABLES[entity];
      const conflicts = await runSql<{ sourced_id: string; updated_by_run: string | null }>(
        this.em,
        `SELECT t.sourced_id, t.updated_by_run FROM ${spec.table} t
          WHERE t.connection_id = $2 AND t.updated_by_run IS DISTINCT FROM $1
            AND (t.created_by_run = $1 OR t.id IN (SELECT record_id FROM roster_change_log WHERE run_id = $1 AND entity = $3))
            AND ($4::boolean = false OR t.id IN
                 (SELECT record_id FROM roster_change_log WHERE run_id = $1 AND entity = $3 AND action = 'deactivated'))
          ORDER BY t.sourced_id`,
        [key.changeSetId, key.connectionId, entity, options.undeleteOnly],
      );
      const undeleted = await this.revertLogged(key, entity, spec, ['deactivated']);
      const reverted = options.undeleteOnly ? [] : await this.revertLogged(key, entity, spec, ['updated', 'restored']);
      const uncreated = options.undeleteOnly
        ? []
        : await runSql<{ id: string }>(
            this.em,
            `UPDATE ${spec.table} t SET status = 'inactive', deactivated_at = now(), deactivated_by_run = $1, updated_at = now()
              WHERE t.connection_id = $2 AND t.created_by_run = $1 AND t.updated_by_run = $1 AND t.status = 'active'
              RETURNING t.id`,
            [key.changeSetId, key.connectionId],
          );
      const total = undeleted.length + reverted.length + uncreated.length + conflicts.length;
      if (total === 0) continue;
      result.counts[entity] = {
        uncreated: uncreated.length,
        reverted: reverted.length,
        undeleted: undeleted.length,
        conflicts: conflicts.length,
      };
      result.changed[entity] = [...uncreated, ...reverted, ...undeleted].map((row) => row.id);
      result.conflicts.push(
        ...conflicts.map((row) => ({ entity, sourcedId: row.sourced_id, changedByRun: row.updated_by_run })),
      );
    }
    if (result.counts.orgs) await this.resolveOrgSchools(key);
    return result;
  }

  /** Puts records back to their before-image, unless a later run changed them since. */
  private revertLogged(
    key: ChangeSetKey,
    entity: RosterEntity,
    spec: MirrorTable,
    actions: readonly string[],
  ): Promise<{ id: string }[]> {
    const columns = [...RESTORED_COLUMNS, ...spec.columns.map((mapping) => mapping.column)];
    return runSql<{ id: string }>(
      this.em,
      `UPDATE ${spec.table} t
          SET (${columns.join(', ')}) = (SELECT ${columns.map((column) => `b.${column}`).join(', ')}
                                           FROM jsonb_populate_record(NULL::${spec.table}, l.before) b)
         FROM (SELECT DISTINCT ON (record_id) record_id, before FROM roster_change_log
                WHERE run_id = $1 AND entity = $3 AND action = ANY($4::text[]) ORDER BY record_id, id) l
        WHERE t.id = l.record_id AND t.connection_id = $2 AND t.updated_by_run = $1
        RETURNING t.id`,
      [key.changeSetId, key.connectionId, entity, actions],
    );
  }

  async deactivateChunk(
    key: ChangeSetKey,
    entity: RosterEntity,
    deactivation: DeactivationScope,
    limit: number,
  ): Promise<string[]> {
    const { table } = MIRROR_TABLES[entity];
    const { where, params } = this.deactivationPredicate(key, entity, deactivation, 5);
    const rows = await runSql<{ id: string }>(
      this.em,
      `WITH victims AS (SELECT t.id, to_jsonb(t.*) AS before FROM ${table} t WHERE ${where} LIMIT $4),
       deactivated AS (
         UPDATE ${table} t
            SET status = 'inactive', deactivated_at = now(), deactivated_by_run = $1, updated_by_run = $1, updated_at = now()
           FROM victims v WHERE t.id = v.id
         RETURNING t.id),
       logged AS (
         INSERT INTO roster_change_log (run_id, entity, record_id, action, before)
         SELECT $1, $3, v.id, 'deactivated', v.before FROM victims v)
       SELECT id FROM deactivated`,
      [key.changeSetId, key.connectionId, entity, limit, ...params],
    );
    return rows.map((row) => row.id);
  }

  async deactivateDependentsChunk(key: ChangeSetKey, entity: RosterEntity, limit: number): Promise<string[]> {
    const { table, parents } = MIRROR_TABLES[entity];
    if (parents.length === 0) return [];
    // Driven from the parents this change set deactivated (few), each looked up among the dependents by its index.
    const victims = parents
      .map(
        (parent) => `SELECT t.id FROM ${parent.table} r
           JOIN ${table} t ON t.connection_id = r.connection_id AND t.${parent.column} = r.sourced_id
          WHERE r.connection_id = $2 AND r.deactivated_by_run = $1 AND r.status = 'inactive' AND t.status = 'active'`,
      )
      .join(' UNION ');
    const rows = await runSql<{ id: string }>(
      this.em,
      `WITH victims AS (SELECT t.id, to_jsonb(t.*) AS before FROM ${table} t
                          WHERE t.id IN (SELECT id FROM (${victims}) v LIMIT $4) FOR UPDATE),
       deactivated AS (
         UPDATE ${table} t
            SET status = 'inactive', deactivated_at = now(), deactivated_by_run = $1, updated_by_run = $1, updated_at = now()
           FROM victims v WHERE t.id = v.id AND t.status = 'active'
         RETURNING t.id),
       logged AS (
         INSERT INTO roster_change_log (run_id, entity, record_id, action, before)
         SELECT $1, $3, v.id, 'deactivated', v.before FROM victims v WHERE v.id IN (SELECT id FROM deactivated))
       SELECT id FROM deactivated`,
      [key.changeSetId, key.connectionId, entity, limit],
    );
    return rows.map((row) => row.id);
  }

  /** Active mirror rows to deactivate: `$1` change set, `$2` connection, `$3` entity; extra params follow. */
  private deactivationPredicate(
    _key: ChangeSetKey,
    entity: RosterEntity,
    deactivation: DeactivationScope,
    firstExtraParam: number,
  ): { where: string; params: unknown[] } {
    const explicit = `EXISTS (SELECT 1 FROM roster_staged_records s WHERE s.run_id = $1 AND s.entity = $3
                        AND s.sourced_id = t.sourced_id AND s.status = 'tobedeleted')`;
    if (!deactivation.absent) {
      return { where: `t.connection_id = $2 AND t.status = 'active' AND ${explicit}`, params: [] };
    }
    const scoped = deactivation.schoolScope.length > 0;
    const scope = scoped ? MIRROR_TABLES[entity].inScope.replaceAll('$scope', `$${firstExtraParam}::text[]`) : 'true';
    const absent = `NOT EXISTS (SELECT 1 FROM roster_staged_records s WHERE s.run_id = $1 AND s.entity = $3
                      AND s.sourced_id = t.sourced_id) AND ${scope}`;
    return {
      where: `t.connection_id = $2 AND t.status = 'active' AND (${explicit} OR (${absent}))`,
      params: scoped ? [deactivation.schoolScope] : [],
    };
  }
}

const LEGACY_ID = `coalesce(s.payload->'metadata'->'ic'->>'legacysourceId', s.payload->'metadata'->>'ic.legacysourceId',
                            s.payload->'metadata'->>'legacysourceId')`;

/** People staged under a new sourcedId whose legacy id names an active mirror person ($1 run, $2 connection). */
const REMAPPED_PEOPLE = `
  WITH legacy AS (
    SELECT s.sourced_id AS new_id, ${LEGACY_ID} AS old_id
      FROM roster_staged_records s
     WHERE s.run_id = $1 AND s.entity = 'people' AND s.status = 'active'
       AND NOT EXISTS (SELECT 1 FROM roster_people x WHERE x.connection_id = $2 AND x.sourced_id = s.sourced_id)
  ), candidates AS (
    SELECT t.id AS person_id, t.sourced_id AS old_id, l.new_id
      FROM legacy l JOIN roster_people t ON t.connection_id = $2 AND t.sourced_id = l.old_id
     WHERE t.status = 'active' AND l.old_id <> l.new_id
    UNION
    SELECT t.id, t.sourced_id, l.new_id
      FROM roster_people t, jsonb_array_elements_text(t.source_aliases) AS a(alias), legacy l
     WHERE t.connection_id = $2 AND t.status = 'active' AND t.source_aliases <> '[]'::jsonb AND a.alias = l.old_id
  ), remapped AS (
    SELECT DISTINCT ON (person_id) person_id, old_id, new_id FROM candidates ORDER BY person_id, new_id
  )`;

/**
 * How the upsert treats locally editable person fields: the column each update writes, the new
 * `local_overrides`, and the sticky conflicts to report (SIS changed a field whose local value is kept).
 */
function localFieldRules(options: ApplyOptions | null): {
  assignments: Map<string, string>;
  overrides: string;
  conflicts: string[];
  /** Fields whose local edits this apply drops (SIS-owned, or a remaster): such rows are updated regardless. */
  cleared: string[];
} {
  const assignments = new Map<string, string>();
  const conflicts: string[] = [];
  const cleared: string[] = [];
  let overrides = 't.local_overrides';
  if (!options) return { assignments, overrides, conflicts, cleared };
  for (const [field, column] of Object.entries(LOCALLY_EDITABLE_PERSON_COLUMNS)) {
    const ownership = options.fieldOwnership[field] ?? 'sticky';
    if (ownership === 'local') {
      assignments.set(column, `t.${column}`);
    } else if (ownership === 'sis' || options.remaster) {
      overrides = `(${overrides} - '${field}')`;
      cleared.push(field);
    } else {
      assignments.set(column, `CASE WHEN t.local_overrides ? '${field}' THEN t.${column} ELSE EXCLUDED.${column} END`);
      overrides = `CASE WHEN ${overrides} ? '${field}'
        THEN jsonb_set(${overrides}, '{${field},sisValue}', coalesce(to_jsonb(EXCLUDED.${column}), 'null'::jsonb))
        ELSE ${overrides} END`;
      conflicts.push(`SELECT c.sourced_id AS "sourcedId", '${field}' AS field
         FROM chunk c JOIN roster_people t ON t.connection_id = $5 AND t.sourced_id = c.sourced_id
        WHERE t.local_overrides ? '${field}'
          AND (c.p->>'${field}') IS DISTINCT FROM (t.local_overrides->'${field}'->>'sisValue')
          AND (c.p->>'${field}') IS DISTINCT FROM (t.local_overrides->'${field}'->>'value')
          AND EXISTS (SELECT 1 FROM roster_people e WHERE e.connection_id = $5 AND e.local_overrides <> '{}'::jsonb)`);
    }
  }
  return { assignments, overrides, conflicts, cleared };
}

export function buildApplySql(spec: MirrorTable, localFields: ApplyOptions | null): string {
  const columns = spec.columns.map((mapping) => mapping.column);
  const local = localFieldRules(localFields);
  const required = spec.references.filter((reference) => reference.required);
  const optional = spec.references.filter((reference) => !reference.required);
  const departments = spec.references.filter((reference) => reference.department);
  // Each distinct reference of the chunk is looked up once (a chunk of enrollments names a few hundred people for
  // its 5,000 records), by a scalar subquery: the source key is unique, so that is one index probe, where an
  // EXISTS or a join may be planned as a hash of the whole referenced table, rebuilt for every chunk. The active
  // ones become the keys of one jsonb object, which each record tests with `?` (a binary search): no join the
  // planner could turn into a rescan per record when it misjudges the chunk's size.
  const resolvedReferences = required.map(
    (reference, index) =>
      `, active_${index} AS MATERIALIZED (
      SELECT jsonb_object_agg(d.v, true) AS keys FROM (SELECT DISTINCT ${reference.value('c.p')} AS v FROM chunk c) d
       WHERE (SELECT r.status = 'active' FROM ${reference.table} r WHERE r.connection_id = $5 AND r.sourced_id = d.v)
    )`,
  );
  // Optional references: the distinct sourcedIds of the chunk that are neither an active mirror record nor an
  // active record of this change set (which the apply writes, in dependency order or later in the same entity).
  const missingReferences = optional.map(
    (reference, index) =>
      `, missing_${index} AS MATERIALIZED (
      SELECT d.v FROM (SELECT DISTINCT n.v FROM chunk c ${namedValues(reference, 'c.p')}) d
       WHERE NOT coalesce((SELECT r.status = 'active' FROM ${reference.table} r
                            WHERE r.connection_id = $5 AND r.sourced_id = d.v), false)
         AND NOT EXISTS (SELECT 1 FROM roster_staged_records x WHERE x.run_id = $1 AND x.entity = '${reference.entity}'
                            AND x.sourced_id = d.v AND x.status = 'active')
    )`,
  );
  // Departments that resolve to no school (`roster_orgs.school_sourced_id`, refreshed after the orgs are applied).
  const schoolless = departments.map(
    (reference, index) =>
      `, schoolless_${index} AS MATERIALIZED (
      SELECT d.v FROM (SELECT DISTINCT n.v FROM chunk c ${namedValues(reference, 'c.p')}) d
       WHERE (SELECT r.type = 'department' AND r.school_sourced_id IS NULL FROM roster_orgs r
               WHERE r.connection_id = $5 AND r.sourced_id = d.v)
    )`,
  );
  const checks = required.map(
    (reference, index) =>
      `coalesce((SELECT a.keys FROM active_${index} a) ? (${reference.value('c.p')}), false) AS ok_${index}`,
  );
  const resolved = required.length === 0 ? 'true' : required.map((_, index) => `c.ok_${index}`).join(' AND ');
  const unresolvedField =
    required.length === 0
      ? `NULL`
      : `CASE ${required.map((reference, index) => `WHEN NOT c.ok_${index} THEN '${reference.field}'`).join(' ')} END`;
  const unresolvedReference =
    required.length === 0
      ? `NULL`
      : `CASE ${required.map((reference, index) => `WHEN NOT c.ok_${index} THEN ${reference.value('c.p')}`).join(' ')} END`;
  const warnings = [
    ...optional.map(
      (reference, index) => `SELECT c.sourced_id AS "sourcedId", '${reference.field}' AS field, n.v AS reference,
             'missing' AS reason
        FROM checked c ${namedValues(reference, 'c.p')}
       WHERE ${resolved} AND n.v IN (SELECT v FROM missing_${index})`,
    ),
    ...departments.map(
      (reference, index) => `SELECT c.sourced_id AS "sourcedId", '${reference.field}' AS field, n.v AS reference,
             'noSchool' AS reason
        FROM checked c ${namedValues(reference, 'c.p')}
       WHERE ${resolved} AND n.v IN (SELECT v FROM schoolless_${index})`,
    ),
  ];
  const assignments = columns.map((column) => `${column} = ${local.assignments.get(column) ?? `EXCLUDED.${column}`}`);
  if (localFields) assignments.push(`local_overrides = ${local.overrides}`);
  return `
    WITH slice AS (
      SELECT s.sourced_id, s.source_hash, s.payload AS p, s.search_text
        FROM roster_staged_records s
       WHERE s.run_id = $1 AND s.entity = $2 AND s.status = 'active' AND s.sourced_id > $3
         AND ($6::text IS NULL OR s.sourced_id <= $6::text)
       ORDER BY s.sourced_id LIMIT $4
    ), chunk AS MATERIALIZED (
      -- Only what would change: an unchanged row would still be locked, checked and compared by the upsert. The
      -- mirror row is found by one index probe per staged row (LIMIT 1 keeps the lookup a nested loop): a hash
      -- join would read the whole, growing mirror table for every chunk.
      SELECT w.*, (m.t).status AS prior_status, CASE WHEN (m.t).id IS NOT NULL THEN to_jsonb(m.t) END AS before
        FROM slice w
        LEFT JOIN LATERAL (SELECT t FROM ${spec.table} t
                            WHERE t.connection_id = $5 AND t.sourced_id = w.sourced_id LIMIT 1) m ON true
       WHERE (m.t).id IS NULL OR (m.t).source_hash IS DISTINCT FROM w.source_hash OR (m.t).status <> 'active'${
         local.cleared.length > 0
           ? ` OR (m.t).local_overrides ?| ARRAY[${local.cleared.map((field) => `'${field}'`).join(', ')}]`
           : ''
       }
    )${resolvedReferences.join('')}${missingReferences.join('')}${schoolless.join('')}, checked AS (
      SELECT c.sourced_id, c.source_hash, c.p, c.search_text${checks.length > 0 ? ', ' + checks.join(', ') : ''} FROM chunk c
    ), prior AS (
      SELECT c.sourced_id, c.prior_status AS status, c.before FROM chunk c WHERE c.before IS NOT NULL
    ), conflicts AS (
      ${local.conflicts.length > 0 ? local.conflicts.join(' UNION ALL ') : `SELECT NULL::text AS "sourcedId", NULL::text AS field WHERE false`}
    ), upserted AS (
      INSERT INTO ${spec.table} AS t (id, connection_id, sourced_id, status, source_modified_at, source_hash, metadata,
                                      created_by_run, updated_by_run, created_at, updated_at, ${columns.join(', ')})
      SELECT gen_random_uuid(), $5, c.sourced_id, 'active', (p->>'dateLastModified')::timestamptz, c.source_hash,
             coalesce(p->'metadata', '{}'::jsonb), $1::uuid, $1::uuid, now(), now(),
             ${spec.columns.map((mapping) => mapping.from).join(', ')}
        FROM checked c WHERE ${resolved}
      ON CONFLICT (connection_id, sourced_id) DO UPDATE
        SET status = 'active', source_modified_at = EXCLUDED.source_modified_at, source_hash = EXCLUDED.source_hash,
            metadata = EXCLUDED.metadata, updated_by_run = EXCLUDED.updated_by_run, updated_at = now(),
            deactivated_at = NULL, deactivated_by_run = NULL,
            ${assignments.join(', ')}
        WHERE t.source_hash IS DISTINCT FROM EXCLUDED.source_hash OR t.status <> 'active'${
          local.cleared.length > 0
            ? ` OR t.local_overrides ?| ARRAY[${local.cleared.map((field) => `'${field}'`).join(', ')}]`
            : ''
        }
      RETURNING t.id, t.sourced_id, (t.xmax = 0) AS inserted
    ), logged AS (
      INSERT INTO roster_change_log (run_id, entity, record_id, action, before)
      SELECT $1::uuid, $2, u.id, CASE WHEN pr.status = 'inactive' THEN 'restored' ELSE 'updated' END, pr.before
        FROM upserted u JOIN prior pr ON pr.sourced_id = u.sourced_id
       WHERE NOT u.inserted
    )
    SELECT (SELECT max(sourced_id) FROM slice) AS last_sourced_id,
           (SELECT count(*) FROM slice)::int AS processed,
           (SELECT json_build_object(
                     'created', coalesce(json_agg(u.id) FILTER (WHERE u.inserted), '[]'),
                     'updated', coalesce(json_agg(u.id) FILTER (WHERE NOT u.inserted AND pr.status IS DISTINCT FROM 'inactive'), '[]'),
                     'restored', coalesce(json_agg(u.id) FILTER (WHERE NOT u.inserted AND pr.status = 'inactive'), '[]'))
              FROM upserted u LEFT JOIN prior pr ON pr.sourced_id = u.sourced_id) AS changes,
           (SELECT coalesce(json_agg(json_build_object('sourcedId', c.sourced_id, 'field', ${unresolvedField},
                                                       'reference', ${unresolvedReference})), '[]')
              FROM checked c WHERE NOT (${resolved})) AS unresolved,
           (SELECT coalesce(json_agg(w ORDER BY w."sourcedId", w.field, w.reference), '[]') FROM (${
             warnings.length > 0
               ? warnings.join(' UNION ALL ')
               : `SELECT NULL::text AS "sourcedId", NULL::text AS field, NULL::text AS reference, NULL::text AS reason WHERE false`
           }) w) AS warnings,
           (SELECT coalesce(json_agg(conflicts), '[]') FROM conflicts) AS conflicts`;
}

/**
 * SQL: whether sourcedId `value` of `entity` is there when the apply needs it (`$1` change set, `$3` connection): an
 * active mirror record, or an active staged record of the change set whose required references are available.
 */
function availableSql(entity: RosterEntity, value: string, depth: number): string {
  const { table, references } = MIRROR_TABLES[entity];
  const staged = `x${depth}`;
  const nested = references
    .filter((reference) => reference.required)
    .map((reference) => {
      const named = `v${depth}`;
      return ` AND (SELECT ${named}.v IS NOT NULL AND ${availableSql(reference.entity, `${named}.v`, depth + 1)}
                     FROM (SELECT ${reference.value(`${staged}.payload`)} AS v) ${named})`;
    })
    .join('');
  return `(coalesce((SELECT r.status = 'active' FROM ${table} r WHERE r.connection_id = $3 AND r.sourced_id = ${value}), false)
     OR EXISTS (SELECT 1 FROM roster_staged_records ${staged}
                 WHERE ${staged}.run_id = $1 AND ${staged}.entity = '${entity}' AND ${staged}.sourced_id = ${value}
                   AND ${staged}.status = 'active'${nested}))`;
}

/** `CROSS JOIN LATERAL` naming each sourcedId a reference of payload `payload` gives as `n.v` (none when null). */
function namedValues(reference: MirrorReference, payload: string): string {
  return reference.list
    ? `CROSS JOIN LATERAL jsonb_array_elements_text(${reference.value(payload)}) AS n(v)`
    : `CROSS JOIN LATERAL (SELECT z.v FROM (SELECT ${reference.value(payload)} AS v) z WHERE z.v IS NOT NULL) n`;
}

function mergePeople(canonicalId: string, people: readonly PersonRecord[]): PersonRecord {
  const union = <T>(values: T[], keyOf: (value: T) => string = String): T[] => {
    const seen = new Map<string, T>();
    for (const value of values) if (!seen.has(keyOf(value))) seen.set(keyOf(value), value);
    return [...seen.values()];
  };
  const first = <K extends keyof PersonRecord>(field: K): PersonRecord[K] =>
    people.find((person) => person[field] !== null && person[field] !== '')?.[field] ?? people[0][field];
  // A role whose per-role record was withdrawn (`tobedeleted`) is not the merged person's any more.
  const current = people.some((person) => person.status === 'active')
    ? people.filter((person) => person.status === 'active')
    : people;
  const roles = union(
    current.flatMap((person) => person.roles),
    (role) => `${role.role}|${role.orgSourcedId ?? ''}`,
  );
  const heldRoles = new Set(current.map((person) => person.primaryRole));
  const primaryRole = ROLE_PRIORITY.find((role) => heldRoles.has(role)) ?? people[0].primaryRole;
  return {
    ...people[0],
    sourcedId: canonicalId,
    status: people.some((person) => person.status === 'active') ? 'active' : 'tobedeleted',
    dateLastModified:
      people
        .map((person) => person.dateLastModified ?? '')
        .sort()
        .at(-1) || null,
    metadata: Object.assign({}, ...people.map((person) => person.metadata)) as Record<string, unknown>,
    middleName: first('middleName'),
    preferredFirstName: first('preferredFirstName'),
    preferredLastName: first('preferredLastName'),
    pronouns: first('pronouns'),
    username: first('username'),
    email: first('email'),
    identifier: first('identifier'),
    phone: first('phone'),
    sms: first('sms'),
    enabled: people.some((person) => person.enabled),
    roles,
    primaryRole,
    orgSourcedIds: union(people.flatMap((person) => person.orgSourcedIds)),
    primaryOrgSourcedId: first('primaryOrgSourcedId'),
    grades: union(people.flatMap((person) => person.grades)),
    agentSourcedIds: union(people.flatMap((person) => person.agentSourcedIds)),
    userIds: union(
      people.flatMap((person) => person.userIds),
      (id) => `${id.type}|${id.identifier}`,
    ),
    sourceAliases: union(
      people.flatMap((person) => [person.sourcedId, ...person.sourceAliases]).filter((id) => id !== canonicalId),
    ),
  };
}
