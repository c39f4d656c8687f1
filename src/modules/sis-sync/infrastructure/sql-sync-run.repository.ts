import { isUuid } from '@app/ddd';
import type { RosterEntity } from '@app/contracts';
import { runSql } from '@app/persistence';
import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import {
  SyncRunRepository,
  type EntityPull,
  type NewSyncRun,
  type Page,
  type RunIssue,
  type RunListFilter,
  type SettleFields,
  type StoredRunIssue,
} from '../application/ports/sync-run.repository.js';
import { RunAlreadyActiveError } from '../domain/sis-sync.errors.js';
import { ConnectionDisabledError, InvalidRunCursorError } from '../domain/sync-run.errors.js';
import type { RunCheckpoint, RunCounts, RunPreview, SyncMode, SyncRun, SyncRunState } from '../domain/sync-run.js';

interface RunRow {
  id: string;
  connection_id: string;
  mode: SyncRun['mode'];
  dry_run: boolean;
  trigger: SyncRun['trigger'];
  state: SyncRunState;
  requested_by: string | null;
  source_description: string | null;
  delta_since: Date | string | null;
  import_file: string | null;
  import_file_name: string | null;
  counts: SyncRun['counts'];
  preview: SyncRun['preview'];
  hold_reasons: SyncRun['holdReasons'];
  checkpoint: SyncRun['checkpoint'];
  issue_count: number;
  error_code: string | null;
  error_message: string | null;
  attempt: number;
  cancel_requested: boolean;
  approved_by: string | null;
  remaster: boolean;
  restored_at: Date | string | null;
  restored_by: string | null;
  restore_summary: unknown;
  approved_at: Date | string | null;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
}

@Injectable()
export class SqlSyncRunRepository extends SyncRunRepository {
  constructor(private readonly em: EntityManager) {
    super();
  }

  async create(run: NewSyncRun): Promise<SyncRun> {
    try {
      // The share lock makes a concurrent connection delete either see this run or wait for it.
      const [row] = await runSql<RunRow>(
        this.em,
        `WITH connection AS (
           SELECT id FROM sis_connections WHERE id = $2 AND deleted_at IS NULL AND enabled FOR SHARE
         )
         INSERT INTO sis_sync_runs (id, connection_id, mode, dry_run, trigger, state, requested_by, import_file,
                                    import_file_name, remaster, checkpoint, created_at, updated_at)
         SELECT $1, connection.id, $3, $4, $5, 'queued', $6, $7, $10, $9, '{"phase":"pull"}', $8, $8 FROM connection
         RETURNING *`,
        [
          run.id,
          run.connectionId,
          run.mode,
          run.dryRun,
          run.trigger,
          run.requestedBy,
          run.importFile,
          run.createdAt,
          run.remaster,
          run.importFileName ?? null,
        ],
      );
      if (!row) throw new ConnectionDisabledError(run.connectionId);
      return toRun(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new RunAlreadyActiveError(run.connectionId);
      throw error;
    }
  }

  async findById(id: string): Promise<SyncRun | null> {
    if (!isUuid(id)) return null;
    const [row] = await runSql<RunRow>(this.em, 'SELECT * FROM sis_sync_runs WHERE id = $1', [id]);
    return row ? toRun(row) : null;
  }

  async list(filter: RunListFilter, limit: number, cursor: string | undefined): Promise<Page<SyncRun>> {
    const after = decodeCursor(cursor);
    const rows = await runSql<RunRow>(
      this.em,
      `SELECT * FROM sis_sync_runs
        WHERE ($1::uuid IS NULL OR connection_id = $1) AND ($2::text IS NULL OR state = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $5`,
      [filter.connectionId ?? null, filter.state ?? null, after?.createdAt ?? null, after?.id ?? null, limit + 1],
    );
    const items = rows.slice(0, limit).map(toRun);
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  async claim(id: string, owner: string, leaseMs: number, now: Date): Promise<SyncRun | null> {
    const [row] = await runSql<RunRow>(
      this.em,
      `UPDATE sis_sync_runs
          SET state = 'running', lease_owner = $2, lease_expires_at = $3, attempt = attempt + 1,
              started_at = coalesce(started_at, $4), updated_at = $4
        WHERE id = $1 AND (state = 'queued'
              OR (state = 'running' AND (lease_owner = $2 OR lease_expires_at IS NULL OR lease_expires_at < $4)))
        RETURNING *`,
      [id, owner, new Date(now.getTime() + leaseMs), now],
    );
    return row ? toRun(row) : null;
  }

  async renewLease(
    id: string,
    owner: string,
    leaseMs: number,
    now: Date,
  ): Promise<{ cancelRequested: boolean } | null> {
    const [row] = await runSql<{ cancel_requested: boolean }>(
      this.em,
      `UPDATE sis_sync_runs SET lease_expires_at = $3, updated_at = $4
        WHERE id = $1 AND state = 'running' AND lease_owner = $2 RETURNING cancel_requested`,
      [id, owner, new Date(now.getTime() + leaseMs), now],
    );
    return row ? { cancelRequested: row.cancel_requested } : null;
  }

  async saveProgress(id: string, owner: string, checkpoint: RunCheckpoint, counts: RunCounts): Promise<boolean> {
    const rows = await runSql(
      this.em,
      `UPDATE sis_sync_runs SET checkpoint = $3, counts = $4, updated_at = now()
        WHERE id = $1 AND lease_owner = $2 AND state = 'running' RETURNING id`,
      [id, owner, JSON.stringify(checkpoint), JSON.stringify(counts)],
    );
    return rows.length === 1;
  }

  async confirmLease(id: string, owner: string): Promise<boolean> {
    const rows = await runSql(
      this.em,
      `SELECT id FROM sis_sync_runs WHERE id = $1 AND lease_owner = $2 AND state = 'running' FOR UPDATE`,
      [id, owner],
    );
    return rows.length === 1;
  }

  async recordSource(id: string, description: string, deltaSince: Date | null, mode: SyncMode): Promise<void> {
    await runSql(
      this.em,
      'UPDATE sis_sync_runs SET source_description = $2, delta_since = $3, mode = $4, updated_at = now() WHERE id = $1',
      [id, description, deltaSince, mode],
    );
  }

  async addIssues(id: string, issues: readonly RunIssue[]): Promise<void> {
    if (issues.length === 0) return;
    await runSql(
      this.em,
      `WITH added AS (
         INSERT INTO sis_sync_run_issues (run_id, entity, sourced_id, field, severity, message)
         SELECT $1, i.entity, i.sourced_id, i.field, i.severity, i.message
           FROM jsonb_to_recordset($2::jsonb) AS i(entity text, sourced_id text, field text, severity text, message text)
         RETURNING 1)
       UPDATE sis_sync_runs SET issue_count = issue_count + (SELECT count(*) FROM added) WHERE id = $1`,
      [
        id,
        JSON.stringify(
          issues.map((issue) => ({
            entity: issue.entity,
            sourced_id: issue.sourcedId,
            field: issue.field,
            severity: issue.severity,
            message: issue.message.slice(0, 2000),
          })),
        ),
      ],
    );
  }

  async listIssues(id: string, limit: number, afterId: number): Promise<StoredRunIssue[]> {
    const rows = await runSql<{
      id: string;
      entity: string;
      sourced_id: string | null;
      field: string | null;
      severity: RunIssue['severity'];
      message: string;
      created_at: Date | string;
    }>(
      this.em,
      `SELECT id, entity, sourced_id, field, severity, message, created_at FROM sis_sync_run_issues
        WHERE run_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [id, afterId, limit],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      entity: row.entity,
      sourcedId: row.sourced_id,
      field: row.field,
      severity: row.severity,
      message: row.message,
      createdAt: new Date(row.created_at),
    }));
  }

  async listIssueRecords(
    id: string,
    entities: readonly RosterEntity[],
  ): Promise<{ entity: RosterEntity; sourcedId: string }[]> {
    if (entities.length === 0) return [];
    const rows = await runSql<{ entity: RosterEntity; sourced_id: string }>(
      this.em,
      `SELECT DISTINCT entity, sourced_id FROM sis_sync_run_issues
        WHERE run_id = $1 AND entity = ANY($2::text[]) AND sourced_id IS NOT NULL
        ORDER BY entity, sourced_id`,
      [id, [...entities]],
    );
    return rows.map((row) => ({ entity: row.entity, sourcedId: row.sourced_id }));
  }

  async recordPreview(id: string, owner: string, preview: RunPreview): Promise<boolean> {
    const rows = await runSql(
      this.em,
      `UPDATE sis_sync_runs SET preview = $3, updated_at = now()
        WHERE id = $1 AND lease_owner = $2 AND state = 'running' RETURNING id`,
      [id, owner, JSON.stringify(preview)],
    );
    return rows.length === 1;
  }

  async countIssues(id: string, severity: RunIssue['severity']): Promise<number> {
    const [row] = await runSql<{ count: string }>(
      this.em,
      'SELECT count(*) AS count FROM sis_sync_run_issues WHERE run_id = $1 AND severity = $2',
      [id, severity],
    );
    return Number(row?.count ?? 0);
  }

  async lockConnectionIdle(connectionId: string): Promise<void> {
    await runSql(this.em, 'SELECT id FROM sis_connections WHERE id = $1 FOR UPDATE', [connectionId]);
    const [active] = await runSql<{ id: string }>(
      this.em,
      `SELECT id FROM sis_sync_runs WHERE connection_id = $1 AND state IN ('queued', 'running', 'held') LIMIT 1`,
      [connectionId],
    );
    if (active) throw new RunAlreadyActiveError(connectionId, active.id);
  }

  async markRestored(id: string, by: string | null, summary: unknown, now: Date): Promise<SyncRun | null> {
    const [row] = await runSql<RunRow>(
      this.em,
      `UPDATE sis_sync_runs SET restored_at = $3, restored_by = $2, restore_summary = $4, updated_at = $3
        WHERE id = $1 AND restored_at IS NULL RETURNING *`,
      [id, by, now, JSON.stringify(summary)],
    );
    return row ? toRun(row) : null;
  }

  async recordPull(id: string, pull: EntityPull): Promise<void> {
    await runSql(
      this.em,
      `INSERT INTO sis_sync_run_pulls (run_id, entity, complete, snapshot, records, pages, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $3 THEN now() END)
       ON CONFLICT (run_id, entity) DO UPDATE SET complete = EXCLUDED.complete, snapshot = EXCLUDED.snapshot,
         records = EXCLUDED.records, pages = EXCLUDED.pages, finished_at = EXCLUDED.finished_at`,
      [id, pull.entity, pull.complete, pull.snapshot, pull.records, pull.pages],
    );
  }

  async pulls(id: string): Promise<Map<RosterEntity, EntityPull>> {
    const rows = await runSql<{
      entity: RosterEntity;
      complete: boolean;
      snapshot: boolean;
      records: number;
      pages: number;
    }>(this.em, 'SELECT entity, complete, snapshot, records, pages FROM sis_sync_run_pulls WHERE run_id = $1', [id]);
    return new Map(rows.map((row) => [row.entity, row]));
  }

  async settle(
    id: string,
    owner: string,
    state: SyncRunState,
    fields: SettleFields,
    now: Date,
  ): Promise<SyncRun | null> {
    const [row] = await runSql<RunRow>(
      this.em,
      `UPDATE sis_sync_runs
          SET state = $2,
              preview = CASE WHEN $3::boolean THEN $4::jsonb ELSE preview END,
              hold_reasons = coalesce($5::jsonb, hold_reasons),
              error_code = CASE WHEN $6::boolean THEN $7::text ELSE error_code END,
              error_message = CASE WHEN $6::boolean THEN $8::text ELSE error_message END,
              counts = coalesce($9::jsonb, counts),
              checkpoint = coalesce($10::jsonb, checkpoint),
              finished_at = CASE WHEN $2::text = 'held' THEN NULL ELSE $11::timestamptz END,
              lease_owner = NULL, lease_expires_at = NULL, cancel_requested = false, updated_at = $11::timestamptz
        WHERE id = $1 AND lease_owner = $12 AND state = 'running' RETURNING *`,
      [
        id,
        state,
        fields.preview !== undefined,
        fields.preview === undefined ? null : JSON.stringify(fields.preview),
        fields.holdReasons ? JSON.stringify(fields.holdReasons) : null,
        fields.errorCode !== undefined,
        fields.errorCode ?? null,
        fields.errorMessage?.slice(0, 2000) ?? null,
        fields.counts ? JSON.stringify(fields.counts) : null,
        fields.checkpoint ? JSON.stringify(fields.checkpoint) : null,
        now,
        owner,
      ],
    );
    return row ? toRun(row) : null;
  }

  async settleIfHeld(id: string, errorCode: string, message: string, now: Date): Promise<SyncRun | null> {
    const [row] = await runSql<RunRow>(
      this.em,
      `UPDATE sis_sync_runs SET state = 'cancelled', error_code = $2, error_message = $3, finished_at = $4, updated_at = $4
        WHERE id = $1 AND state = 'held' RETURNING *`,
      [id, errorCode, message, now],
    );
    return row ? toRun(row) : null;
  }

  async approve(id: string, userId: string | null, now: Date): Promise<SyncRun | null> {
    const [row] = await runSql<RunRow>(
      this.em,
      `UPDATE sis_sync_runs SET state = 'queued', approved_by = $2, approved_at = $3, updated_at = $3
        WHERE id = $1 AND state = 'held' RETURNING *`,
      [id, userId, now],
    );
    return row ? toRun(row) : null;
  }

  async requestCancel(id: string, now: Date): Promise<SyncRun | null> {
    const [row] = await runSql<RunRow>(
      this.em,
      `UPDATE sis_sync_runs
          SET state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
              finished_at = CASE WHEN state = 'queued' THEN $2::timestamptz ELSE finished_at END,
              error_code = CASE WHEN state = 'queued' THEN 'SIS_SYNC.RUN_CANCELLED' ELSE error_code END,
              cancel_requested = (state = 'running'), updated_at = $2
        WHERE id = $1 AND (state = 'queued' OR (state = 'running' AND checkpoint->>'phase' IN ('pull', 'review')))
        RETURNING *`,
      [id, now],
    );
    return row ? toRun(row) : null;
  }

  async lastSuccessful(connectionId: string, mode?: SyncMode): Promise<SyncRun | null> {
    const [row] = await runSql<RunRow>(
      this.em,
      `SELECT * FROM sis_sync_runs
        WHERE connection_id = $1 AND NOT dry_run AND state IN ('succeeded', 'succeeded_with_issues')
          AND ($2::text IS NULL OR mode = $2)
        ORDER BY started_at DESC NULLS LAST LIMIT 1`,
      [connectionId, mode ?? null],
    );
    return row ? toRun(row) : null;
  }

  async findStalled(now: Date, queuedBefore: Date): Promise<SyncRun[]> {
    const rows = await runSql<RunRow>(
      this.em,
      `SELECT * FROM sis_sync_runs
        WHERE (state = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < $1))
           OR (state = 'queued' AND updated_at < $2)
        ORDER BY created_at LIMIT 100`,
      [now, queuedBefore],
    );
    return rows.map(toRun);
  }
}

function toRun(row: RunRow): SyncRun {
  return {
    id: row.id,
    connectionId: row.connection_id,
    mode: row.mode,
    dryRun: row.dry_run,
    trigger: row.trigger,
    state: row.state,
    requestedBy: row.requested_by,
    sourceDescription: row.source_description,
    deltaSince: optionalDate(row.delta_since),
    importFile: row.import_file,
    importFileName: row.import_file_name,
    counts: row.counts,
    preview: row.preview,
    holdReasons: row.hold_reasons,
    checkpoint: row.checkpoint,
    issueCount: row.issue_count,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    attempt: row.attempt,
    cancelRequested: row.cancel_requested,
    approvedBy: row.approved_by,
    approvedAt: optionalDate(row.approved_at),
    remaster: row.remaster,
    restoredAt: optionalDate(row.restored_at),
    restoredBy: row.restored_by,
    restoreSummary: row.restore_summary,
    createdAt: new Date(row.created_at),
    startedAt: optionalDate(row.started_at),
    finishedAt: optionalDate(row.finished_at),
  };
}

/** The driver hands timestamps back as text (MikroORM installs its own parsers); keep them as instants. */
function optionalDate(value: Date | string | null): Date | null {
  return value === null ? null : new Date(value);
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof UniqueConstraintViolationException ||
    (typeof error === 'object' && error !== null && (error as { code?: string }).code === '23505')
  );
}

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

function decodeCursor(cursor: string | undefined): { createdAt: string; id: string } | undefined {
  if (!cursor) return undefined;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    if (typeof createdAt === 'string' && isUuid(id) && !Number.isNaN(Date.parse(createdAt))) return { createdAt, id };
  } catch {
    // reported below
  }
  throw new InvalidRunCursorError();
}
