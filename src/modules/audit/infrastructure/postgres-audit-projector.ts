import { runSql } from '@app/persistence';
import { EntityManager, IsolationLevel } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { AuditProjectionFailedEvent } from '../application/audit-projection-failed.event.js';
import { AuditMetrics } from '../application/ports/audit-metrics.port.js';
import { AuditProjector } from '../application/ports/audit-projector.port.js';
import { AUDIT_PROJECTIONS, positionName, type AuditProjection } from './audit-projections.js';

/** Entries per batch: one transaction applies them to every read model and moves the positions. */
export const PROJECTION_BATCH = 5_000;

/** Serialises the one-time set-up of position rows (and the reset of a read model whose version changed). */
const SETUP_LOCK = [20261125, 2] as const;

/**
 * SQLSTATE classes of failures an entry can cause (data exceptions, integrity constraints, program limits such
 * as an index row too big, and errors raised by triggers). Anything else (a lost connection, a timeout, a
 * deadlock) fails the batch, which is retried as a whole later.
 */
const ENTRY_FAILURE = /^(22|23|54)...$|^P0001$/;

interface PositionRow {
  name: string;
  position: string;
}

/** An entry a projection could not apply and skipped. */
interface ProjectionFailure {
  projection: string;
  seq: string;
  code: string;
}

interface Batch {
  entries: number;
  done: boolean;
  failures: ProjectionFailure[];
}

/**
 * Projects the chain into the read models with set-based SQL. Position rows are locked `FOR UPDATE` for the
 * whole batch, so projectors in several processes take turns and each batch is applied exactly once; the
 * inserts are `ON CONFLICT DO NOTHING` besides. A batch ends at the chain's head as seen by the same snapshot
 * that counted the batch: a seq is assigned under the chain's lock, held until its transaction commits, so
 * every seq up to a visible head is already visible and none can appear behind a position later.
 *
 * One bad entry never blocks the read models: each projection applies a batch inside a savepoint, and when it
 * fails on something an entry can cause, the batch is halved until the entry is found; that entry is recorded in
 * `audit_projection_failures`, skipped and reported (log, `audit_projection_failures_total`, the `compliance`
 * room), and the rest is applied. A rebuild is one transaction: the old read models stay, and readers keep
 * seeing them, until the new ones are complete.
 */
@Injectable()
export class PostgresAuditProjector extends AuditProjector {
  /** Tests use small batches to cross batch boundaries with few entries. */
  batchSize = PROJECTION_BATCH;
  private readonly projections: readonly AuditProjection[] = AUDIT_PROJECTIONS;
  private readonly logger = new Logger('AuditProjections');
  private ready = false;

  constructor(
    private readonly em: EntityManager,
    private readonly metrics: AuditMetrics,
    private readonly events: EventBus,
  ) {
    super();
  }

  async catchUp(): Promise<number> {
    await this.ensurePositions();
    if (await this.upToDate()) return 0;
    let read = 0;
    for (;;) {
      const batch = await this.transaction((em) => this.applyBatch(em));
      this.report(batch.failures);
      read += batch.entries;
      if (batch.done) return read;
    }
  }

  async rebuild(): Promise<number> {
    await this.ensurePositions();
    const failures: ProjectionFailure[] = [];
    const read = await this.transaction(async (em) => {
      await this.lockPositions(em);
      // DELETE, not TRUNCATE: readers keep the old rows (and are not blocked) until this transaction commits.
      for (const projection of this.projections) await runSql(em, `DELETE FROM ${projection.table}`);
      await runSql(em, 'DELETE FROM audit_projection_failures WHERE projection = ANY($1)', [this.names()]);
      await runSql(em, 'UPDATE audit_projection_positions SET position = 0, updated_at = now() WHERE name = ANY($1)', [
        this.names(),
      ]);
      let entries = 0;
      for (;;) {
        const batch = await this.applyBatch(em);
        failures.push(...batch.failures);
        entries += batch.entries;
        if (batch.done) return entries;
      }
    });
    this.report(failures);
    return read;
  }

  private names(): string[] {
    return this.projections.map(positionName);
  }

  private transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.em.fork().transactional(work, { isolationLevel: IsolationLevel.READ_COMMITTED });
  }

  /** Cheap check without locks, so queries that find nothing new do not queue behind each other. */
  private async upToDate(): Promise<boolean> {
    const [row] = await runSql<{ behind: boolean }>(
      this.em.fork(),
      `SELECT coalesce((SELECT max(seq) FROM audit_events), 0)
              > coalesce((SELECT min(position) FROM audit_projection_positions WHERE name = ANY($1)), 0) AS behind`,
      [this.names()],
    );
    return !row?.behind;
  }

  private lockPositions(em: EntityManager): Promise<PositionRow[]> {
    return runSql<PositionRow>(
      em,
      'SELECT name, position::text AS position FROM audit_projection_positions WHERE name = ANY($1) ORDER BY name FOR UPDATE',
      [this.names()],
    );
  }

  private async applyBatch(em: EntityManager): Promise<Batch> {
    const positions = new Map((await this.lockPositions(em)).map((row) => [row.name, BigInt(row.position)]));
    const from = [...positions.values()].reduce((low, position) => (position < low ? position : low));
    const [range] = await runSql<{ head: string; entries: number; last: string | null }>(
      em,
      `WITH batch AS (SELECT seq FROM audit_event_payloads WHERE seq > $1 ORDER BY seq LIMIT $2)
       SELECT coalesce((SELECT max(seq) FROM audit_events), 0)::text AS head,
              (SELECT count(*) FROM batch)::int AS entries,
              (SELECT max(seq) FROM batch)::text AS last`,
      [from.toString(), this.batchSize],
    );
    const full = range.entries >= this.batchSize;
    // A short batch reaches the head; entries between the last payload and the head were purged.
    const to = full ? BigInt(range.last!) : BigInt(range.head);
    const failures: ProjectionFailure[] = [];
    for (const projection of this.projections) {
      const position = positions.get(positionName(projection)) ?? 0n;
      if (position >= to) continue;
      failures.push(...(await this.applyIsolated(em, projection, position, to)));
      await runSql(em, 'UPDATE audit_projection_positions SET position = $2, updated_at = now() WHERE name = $1', [
        positionName(projection),
        to.toString(),
      ]);
    }
    return { entries: range.entries, done: !full, failures };
  }

  /** Applies `(from, to]`; on an entry's failure, halves the range down to that entry and records it. */
  private async applyIsolated(
    em: EntityManager,
    projection: AuditProjection,
    from: bigint,
    to: bigint,
  ): Promise<ProjectionFailure[]> {
    const first = await this.tryApply(em, projection, from, to);
    if (first === null) return [];
    const seqs = (
      await runSql<{ seq: string }>(
        em,
        'SELECT seq::text AS seq FROM audit_event_payloads WHERE seq > $1 AND seq <= $2 ORDER BY seq',
        [from.toString(), to.toString()],
      )
    ).map((row) => BigInt(row.seq));
    // No entry to blame: not an entry's failure after all.
    if (seqs.length === 0) throw first;
    const failures: ProjectionFailure[] = [];
    const bisect = async (low: bigint, range: bigint[], error: Error): Promise<void> => {
      if (range.length === 1) {
        failures.push(await this.recordFailure(em, projection, range[0], error));
        return;
      }
      const half = range.length >> 1;
      const left = range.slice(0, half);
      const right = range.slice(half);
      const leftError = await this.tryApply(em, projection, low, left.at(-1)!);
      if (leftError !== null) await bisect(low, left, leftError);
      const rightError = await this.tryApply(em, projection, left.at(-1)!, right.at(-1)!);
      if (rightError !== null) await bisect(left.at(-1)!, right, rightError);
    };
    await bisect(from, seqs, first);
    return failures;
  }

  /** Applies `(from, to]` in a savepoint; answers the error when an entry could have caused it, else throws. */
  private async tryApply(
    em: EntityManager,
    projection: AuditProjection,
    from: bigint,
    to: bigint,
  ): Promise<Error | null> {
    await runSql(em, 'SAVEPOINT audit_projection');
    try {
      await runSql(em, projection.apply, [from.toString(), to.toString()]);
    } catch (error) {
      if (!ENTRY_FAILURE.test(sqlState(error))) throw error;
      await runSql(em, 'ROLLBACK TO SAVEPOINT audit_projection');
      return error instanceof Error ? error : new Error(String(error));
    }
    await runSql(em, 'RELEASE SAVEPOINT audit_projection');
    return null;
  }

  private async recordFailure(
    em: EntityManager,
    projection: AuditProjection,
    seq: bigint,
    error: Error,
  ): Promise<ProjectionFailure> {
    const failure = { projection: positionName(projection), seq: seq.toString(), code: sqlState(error) };
    // The message only: PostgreSQL puts row values (student data) in the detail, never in the message.
    const message = error.message.slice(0, 500);
    await runSql(
      em,
      `INSERT INTO audit_projection_failures (projection, seq, error_code, message) VALUES ($1, $2, $3, $4)
       ON CONFLICT (projection, seq) DO UPDATE
         SET error_code = EXCLUDED.error_code, message = EXCLUDED.message, failed_at = now()`,
      [failure.projection, failure.seq, failure.code, message],
    );
    return failure;
  }

  /** After the commit, so a batch that rolled back reports nothing. */
  private report(failures: readonly ProjectionFailure[]): void {
    const at = new Date();
    for (const failure of failures) {
      this.logger.error(
        { projection: failure.projection, seq: failure.seq, code: failure.code },
        'An audit read model could not apply an entry and skipped it (rebuild the read models to retry)',
      );
      this.metrics.projectionFailed(failure.projection);
      this.events.publish(new AuditProjectionFailedEvent(failure.projection, failure.seq, failure.code, at));
    }
  }

  /**
   * Creates missing position rows. A read model without its position row (new, or its version changed) is
   * emptied first, so replaying it from 0 gives exactly what an incremental run would have.
   */
  private async ensurePositions(): Promise<void> {
    if (this.ready) return;
    await this.transaction(async (em) => {
      await runSql(em, 'SELECT pg_advisory_xact_lock($1, $2)', [...SETUP_LOCK]);
      const existing = new Set(
        (await runSql<{ name: string }>(em, 'SELECT name FROM audit_projection_positions')).map((row) => row.name),
      );
      for (const projection of this.projections) {
        const name = positionName(projection);
        if (existing.has(name)) continue;
        await runSql(em, `TRUNCATE ${projection.table}`);
        await runSql(em, 'DELETE FROM audit_projection_positions WHERE name LIKE $1', [`${projection.table}@%`]);
        await runSql(em, 'INSERT INTO audit_projection_positions (name, position) VALUES ($1, 0)', [name]);
      }
    });
    this.ready = true;
  }
}

function sqlState(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}
