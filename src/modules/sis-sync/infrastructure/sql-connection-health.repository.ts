import { ACTIVE_SYNC_RUN_STATES, type SyncOperationsStatus } from '@app/contracts';
import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { ConnectionHealthRepository } from '../application/ports/connection-health.repository.js';
import type { ConnectionHealth, FailureStreak } from '../domain/connection-health.js';
import type { SyncMode, SyncRunState, SyncTrigger } from '../domain/sync-run.js';

type Timestamp = Date | string;

const SUCCEEDED = `state IN ('succeeded', 'succeeded_with_issues')`;
/** Runs that count for health: finished syncs that were meant to change the mirror. */
const COUNTED = `connection_id = $1 AND NOT dry_run AND finished_at IS NOT NULL`;
const STREAK_IDS = 50;
/** A streak longer than this reads as this: the alert only needs to know it is long. */
const STREAK_CAP = 1000;

/** Health straight from `sis_sync_runs` (no copy to keep in step) and the token table. */
@Injectable()
export class SqlConnectionHealthRepository extends ConnectionHealthRepository {
  constructor(private readonly em: EntityManager) {
    super();
  }

  async recordToken(connectionId: string, expiresAt: Date | null, observedAt: Date): Promise<void> {
    await runSql(
      this.em,
      `INSERT INTO sis_connection_tokens (connection_id, expires_at, observed_at)
       SELECT id, $2, $3 FROM sis_connections WHERE id = $1
       ON CONFLICT (connection_id) DO UPDATE SET expires_at = EXCLUDED.expires_at, observed_at = EXCLUDED.observed_at
        WHERE sis_connection_tokens.observed_at <= EXCLUDED.observed_at`,
      [connectionId, expiresAt, observedAt],
    );
  }

  async read(connectionId: string): Promise<Omit<ConnectionHealth, 'nextScheduledRun' | 'enabled'>> {
    const [row] = await runSql<{
      success_id: string | null;
      success_at: Timestamp | null;
      failures: string | number;
      error_id: string | null;
      error_code: string | null;
      error_message: string | null;
      error_at: Timestamp | null;
      expires_at: Timestamp | null;
      observed_at: Timestamp | null;
    }>(
      this.em,
      `WITH success AS (
         SELECT id, finished_at FROM sis_sync_runs WHERE ${COUNTED} AND ${SUCCEEDED}
          ORDER BY finished_at DESC LIMIT 1),
       failure AS (
         SELECT id, error_code, error_message, finished_at FROM sis_sync_runs WHERE ${COUNTED} AND state = 'failed'
          ORDER BY finished_at DESC LIMIT 1)
       SELECT (SELECT id FROM success) AS success_id,
              (SELECT finished_at FROM success) AS success_at,
              (SELECT count(*) FROM sis_sync_runs WHERE ${COUNTED} AND state = 'failed'
                  AND finished_at > coalesce((SELECT finished_at FROM success), '-infinity')) AS failures,
              (SELECT id FROM failure) AS error_id,
              (SELECT error_code FROM failure) AS error_code,
              (SELECT error_message FROM failure) AS error_message,
              (SELECT finished_at FROM failure) AS error_at,
              token.expires_at, token.observed_at
         FROM (SELECT 1) AS one
         LEFT JOIN sis_connection_tokens token ON token.connection_id = $1`,
      [connectionId],
    );
    const [active] = await runSql<{
      id: string;
      state: SyncRunState;
      mode: SyncMode;
      dry_run: boolean;
      trigger: SyncTrigger;
      created_at: Timestamp;
      started_at: Timestamp | null;
    }>(
      this.em,
      `SELECT id, state, mode, dry_run, trigger, created_at, started_at FROM sis_sync_runs
        WHERE connection_id = $1 AND state IN ('queued', 'running', 'held') ORDER BY created_at DESC LIMIT 1`,
      [connectionId],
    );
    return {
      connectionId,
      lastSuccess: row?.success_id && row.success_at ? { runId: row.success_id, at: new Date(row.success_at) } : null,
      consecutiveFailures: Number(row?.failures ?? 0),
      lastError:
        row?.error_id && row.error_at
          ? { code: row.error_code, message: row.error_message, runId: row.error_id, at: new Date(row.error_at) }
          : null,
      tokenExpiresAt: row?.expires_at ? new Date(row.expires_at) : null,
      tokenObservedAt: row?.observed_at ? new Date(row.observed_at) : null,
      activeRun: active
        ? {
            runId: active.id,
            state: active.state,
            mode: active.mode,
            dryRun: active.dry_run,
            trigger: active.trigger,
            createdAt: new Date(active.created_at),
            startedAt: active.started_at ? new Date(active.started_at) : null,
          }
        : null,
    };
  }

  async failureStreak(connectionId: string): Promise<FailureStreak | null> {
    const [row] = await runSql<{ count: string | number; first_run_id: string | null; run_ids: string[] | null }>(
      this.em,
      `WITH failed AS (
         SELECT id, finished_at FROM sis_sync_runs
          WHERE ${COUNTED} AND state = 'failed'
            AND finished_at > coalesce(
              (SELECT max(finished_at) FROM sis_sync_runs WHERE ${COUNTED} AND ${SUCCEEDED}), '-infinity'))
       SELECT (SELECT count(*) FROM failed) AS count,
              (SELECT id FROM failed ORDER BY finished_at, id LIMIT 1) AS first_run_id,
              (SELECT json_agg(id ORDER BY finished_at DESC, id DESC)
                 FROM (SELECT id, finished_at FROM failed ORDER BY finished_at DESC, id DESC LIMIT ${STREAK_IDS}) recent
              ) AS run_ids`,
      [connectionId],
    );
    const count = Number(row?.count ?? 0);
    if (!row?.first_run_id || count === 0) return null;
    return { count, firstRunId: row.first_run_id, runIds: row.run_ids ?? [] };
  }

  async operationsStatus(): Promise<SyncOperationsStatus> {
    const connections = await runSql<{ id: string; success_at: Timestamp | null; failures: string | number }>(
      this.em,
      `SELECT c.id, success.finished_at AS success_at,
              (SELECT count(*) FROM (
                 SELECT 1 FROM sis_sync_runs f
                  WHERE f.connection_id = c.id AND NOT f.dry_run AND f.finished_at IS NOT NULL AND f.state = 'failed'
                    AND f.finished_at > coalesce(success.finished_at, '-infinity')
                  LIMIT ${STREAK_CAP}) streak) AS failures
         FROM sis_connections c
         LEFT JOIN LATERAL (
           SELECT finished_at FROM sis_sync_runs s
            WHERE s.connection_id = c.id AND NOT s.dry_run AND s.finished_at IS NOT NULL
              AND s.state IN ('succeeded', 'succeeded_with_issues')
            ORDER BY s.finished_at DESC LIMIT 1) success ON true
        WHERE c.deleted_at IS NULL
        ORDER BY c.id`,
    );
    // The active runs are few (one per connection at most): the partial unique index holds exactly them.
    const runs = await runSql<{
      state: string;
      count: string | number;
      oldest: Timestamp | null;
      stalled: string | number;
    }>(
      this.em,
      `SELECT state, count(*) AS count,
              min(CASE state WHEN 'held' THEN updated_at WHEN 'running' THEN coalesce(started_at, created_at)
                  ELSE created_at END) AS oldest,
              count(*) FILTER (WHERE state = 'running' AND lease_expires_at < now()) AS stalled
         FROM sis_sync_runs WHERE state IN ('queued', 'running', 'held') GROUP BY state`,
    );
    const activeRuns = Object.fromEntries(
      ACTIVE_SYNC_RUN_STATES.map((state) => [state, { count: 0, oldestSince: null }]),
    ) as SyncOperationsStatus['activeRuns'];
    let stalledRuns = 0;
    for (const row of runs) {
      if (!(ACTIVE_SYNC_RUN_STATES as readonly string[]).includes(row.state)) continue;
      activeRuns[row.state as keyof typeof activeRuns] = {
        count: Number(row.count),
        oldestSince: row.oldest ? new Date(row.oldest) : null,
      };
      stalledRuns += Number(row.stalled);
    }
    return {
      connections: connections.map((row) => ({
        connectionId: row.id,
        lastSuccessAt: row.success_at ? new Date(row.success_at) : null,
        consecutiveFailures: Number(row.failures),
      })),
      activeRuns,
      stalledRuns,
    };
  }
}
