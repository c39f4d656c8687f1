import { runSql } from '@app/persistence';
import { EntityManager, IsolationLevel } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import {
  AuditReadModelVerifier,
  type ReadModelDifference,
  type ReadModelRange,
  type ReadModelVerification,
} from '../application/ports/audit-read-model-verifier.port.js';
import { AUDIT_PROJECTIONS, positionName, type AuditProjection } from './audit-projections.js';

/** Entries compared per transaction. */
const BATCH_ENTRIES = 20_000;

interface RowText {
  seq: string;
  row: string;
}

/** Thrown to end the comparing transaction with a ROLLBACK, carrying what it found. */
class ComparisonDone extends Error {
  constructor(readonly difference: ReadModelDifference | null) {
    super('read model comparison done');
  }
}

/**
 * Compares each read model with what its own projection SQL (`audit-projections.ts`, used verbatim, so the
 * check follows any change to a projection) computes from the log, batch by batch: in one transaction that is
 * always rolled back, the stored rows of the batch are deleted (RETURNING them) and the projection is applied
 * to the batch (RETURNING what it writes); the two sets of rows, as PostgreSQL's JSON of the whole row, must be
 * equal. Nothing is changed; the stored rows of a batch are locked while it is compared (the projector only
 * writes beyond its position, which bounds the range, so it does not wait).
 */
@Injectable()
export class PostgresAuditReadModelVerifier extends AuditReadModelVerifier {
  /** Tests use small batches to cross batch boundaries with few entries. */
  batchEntries = BATCH_ENTRIES;
  private readonly projections: readonly AuditProjection[] = AUDIT_PROJECTIONS;

  constructor(private readonly em: EntityManager) {
    super();
  }

  async verify({ fromSeq = 1, toSeq }: ReadModelRange): Promise<ReadModelVerification> {
    const tables = this.projections.map((projection) => projection.table);
    const reached = await this.reachedSeq();
    const last = Math.min(toSeq ?? reached, reached);
    for (let after = fromSeq - 1; after < last; after = Math.min(last, after + this.batchEntries)) {
      const difference = await this.compare(after, Math.min(last, after + this.batchEntries));
      if (difference) {
        return {
          ok: false,
          fromSeq,
          toSeq: last,
          checkedEntries: difference.seq - fromSeq,
          tables,
          firstDifference: difference,
        };
      }
    }
    return {
      ok: true,
      fromSeq,
      toSeq: last,
      checkedEntries: Math.max(0, last - fromSeq + 1),
      tables,
      firstDifference: null,
    };
  }

  /** The seq every read model has applied (0 when one has no position yet). */
  private async reachedSeq(): Promise<number> {
    const rows = await runSql<{ position: string }>(
      this.em.fork(),
      'SELECT position::text AS position FROM audit_projection_positions WHERE name = ANY($1)',
      [this.projections.map(positionName)],
    );
    if (rows.length < this.projections.length) return 0;
    return Math.min(...rows.map((row) => Number(row.position)));
  }

  private async compare(after: number, upTo: number): Promise<ReadModelDifference | null> {
    try {
      await this.em.fork().transactional(
        async (em) => {
          let first: ReadModelDifference | null = null;
          for (const { table, apply } of this.projections) {
            const returning = `RETURNING seq::text AS seq, pg_catalog.to_jsonb(${table})::text AS row`;
            const actual = await runSql<RowText>(em, `DELETE FROM ${table} WHERE seq > $1 AND seq <= $2 ${returning}`, [
              after,
              upTo,
            ]);
            const expected = await runSql<RowText>(em, `${apply.trimEnd()} ${returning}`, [after, upTo]);
            const difference = firstDifference(table, expected, actual);
            if (difference && (!first || difference.seq < first.seq)) first = difference;
          }
          throw new ComparisonDone(first);
        },
        { isolationLevel: IsolationLevel.READ_COMMITTED },
      );
    } catch (error) {
      if (error instanceof ComparisonDone) return error.difference;
      throw error;
    }
    return null;
  }
}

/** The lowest seq whose rows differ between the two sets (each row compared as a whole). */
function firstDifference(table: string, expected: RowText[], actual: RowText[]): ReadModelDifference | null {
  const bySeq = new Map<number, { expected: string[]; actual: string[] }>();
  const add = (rows: RowText[], side: 'expected' | 'actual') => {
    for (const { seq, row } of rows) {
      const key = Number(seq);
      const entry = bySeq.get(key) ?? { expected: [], actual: [] };
      entry[side].push(row);
      bySeq.set(key, entry);
    }
  };
  add(expected, 'expected');
  add(actual, 'actual');
  for (const seq of [...bySeq.keys()].sort((left, right) => left - right)) {
    const rows = bySeq.get(seq)!;
    const missing = without(rows.expected, rows.actual);
    const unexpected = without(rows.actual, rows.expected);
    if (missing.length === 0 && unexpected.length === 0) continue;
    return {
      table,
      seq,
      kind: missing.length > 0 && unexpected.length > 0 ? 'different' : missing.length > 0 ? 'missing' : 'unexpected',
      expected: missing.length > 0 ? (JSON.parse(missing[0]) as Record<string, unknown>) : null,
      actual: unexpected.length > 0 ? (JSON.parse(unexpected[0]) as Record<string, unknown>) : null,
    };
  }
  return null;
}

/** The rows of `rows` left once each row of `other` has cancelled one equal row (a multiset difference). */
function without(rows: readonly string[], other: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const row of other) counts.set(row, (counts.get(row) ?? 0) + 1);
  return rows.filter((row) => {
    const count = counts.get(row) ?? 0;
    if (count === 0) return true;
    counts.set(row, count - 1);
    return false;
  });
}
