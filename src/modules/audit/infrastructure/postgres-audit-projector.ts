import { runSql } from '@app/persistence';
import { EntityManager, IsolationLevel } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditProjector } from '../application/ports/audit-projector.port.js';
import { AUDIT_PROJECTIONS, positionName, type AuditProjection } from './audit-projections.js';

/** Entries per batch: one transaction applies them to every read model and moves the positions. */
export const PROJECTION_BATCH = 5_000;

/** Serialises the one-time set-up of position rows (and the reset of a read model whose version changed). */
const SETUP_LOCK = [20261125, 2] as const;

interface PositionRow {
  name: string;
  position: string;
}

/**
 * Projects the chain into the read models with set-based SQL. Position rows are locked `FOR UPDATE` for the
 * whole batch, so projectors in several processes take turns and each batch is applied exactly once; the
 * inserts are `ON CONFLICT DO NOTHING` besides. A batch ends at the chain's head as seen by the same snapshot
 * that counted the batch: a seq is assigned under the chain's lock, held until its transaction commits, so
 * every seq up to a visible head is already visible and none can appear behind a position later.
 */
@Injectable()
export class PostgresAuditProjector extends AuditProjector {
  /** Tests use small batches to cross batch boundaries with few entries. */
  batchSize = PROJECTION_BATCH;
  private readonly projections: readonly AuditProjection[] = AUDIT_PROJECTIONS;
  private ready = false;

  constructor(private readonly em: EntityManager) {
    super();
  }

  async catchUp(): Promise<number> {
    await this.ensurePositions();
    if (await this.upToDate()) return 0;
    let read = 0;
    for (;;) {
      const batch = await this.transaction((em) => this.applyBatch(em));
      read += batch.entries;
      if (batch.done) return read;
    }
  }

  async rebuild(): Promise<number> {
    await this.ensurePositions();
    await this.transaction(async (em) => {
      await this.lockPositions(em);
      await runSql(em, `TRUNCATE ${this.projections.map((projection) => projection.table).join(', ')}`);
      await runSql(em, 'UPDATE audit_projection_positions SET position = 0, updated_at = now() WHERE name = ANY($1)', [
        this.names(),
      ]);
    });
    return this.catchUp();
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

  private async applyBatch(em: EntityManager): Promise<{ entries: number; done: boolean }> {
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
    for (const projection of this.projections) {
      const position = positions.get(positionName(projection)) ?? 0n;
      if (position >= to) continue;
      await runSql(em, projection.apply, [position.toString(), to.toString()]);
      await runSql(em, 'UPDATE audit_projection_positions SET position = $2, updated_at = now() WHERE name = $1', [
        positionName(projection),
        to.toString(),
      ]);
    }
    return { entries: range.entries, done: !full };
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
