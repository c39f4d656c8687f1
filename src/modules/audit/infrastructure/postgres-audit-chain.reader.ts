import { GENESIS_HASH, HASH_BYTES, type ChainRecord, type CheckedRange } from '@app/audit-chain';
import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditChainReader, type ChainEntries, type ChainTip } from '../application/ports/audit-chain.reader.port.js';
import { ENTRY_COLUMNS_MATCH_SQL, MISMATCHED_COLUMNS_SQL } from './audit-entry-columns.sql.js';

/** Seqs per query. */
const BATCH = 10_000;

interface ChainRow {
  seq: number | string;
  hashes: Buffer;
  entry?: string | null;
  entry_matches?: boolean | null;
  mismatched_columns?: string[] | null;
  purged: boolean;
}

// The three hashes travel as one bytea and seq as float8 (exact below 2^53): per-field parsing in the driver
// costs more than the hashing the verifier does, so fewer fields per row is most of the speed. To verify, the
// entry text is hashed where it is stored (PostgreSQL's sha256 over its UTF-8 bytes) rather than shipped: the
// links and chain hashes are still recomputed here, and offline bundle verification hashes every text. An entry
// without a payload row is either purged (the purge trigger wrote audit_purged_events in the same
// transaction) or gone by other means, which the verifier reports as tampering.
// Each join is bounded to the window on both sides, as in CHECK_RANGE_SQL: the planner then merges three ordered
// index range scans; unbounded, it looked each payload up by seq and sorted the window (measured: ten times the
// backend's CPU per batch).
const recordsSql = (entries: string): string => `
  SELECT e.seq::float8 AS seq, e.entry_hash || e.prev_hash || e.hash AS hashes, ${entries},
         (x.seq IS NOT NULL) AS purged
    FROM audit_events e
    LEFT JOIN audit_event_payloads p ON p.seq = e.seq AND p.seq > $1 AND p.seq <= $2
    LEFT JOIN audit_purged_events x ON x.seq = e.seq AND x.seq > $1 AND x.seq <= $2
   WHERE e.seq > $1 AND e.seq <= $2
   ORDER BY e.seq`;
// The columns are compared by the one combined check; only a row that fails it is taken apart column by column
// (several times the work), to name what disagrees.
const CHECKS = `CASE WHEN p.seq IS NULL THEN NULL ELSE sha256(convert_to(p.entry, 'UTF8')) = e.entry_hash END AS entry_matches,
     CASE WHEN p.seq IS NULL THEN NULL WHEN ${ENTRY_COLUMNS_MATCH_SQL} THEN '{}'::text[]
          ELSE ${MISMATCHED_COLUMNS_SQL} END AS mismatched_columns`;
const RECORDS_SQL: Record<ChainEntries, string> = {
  text: recordsSql('p.entry'),
  checked: recordsSql(CHECKS),
  'text-and-checked': recordsSql(`p.entry, ${CHECKS}`),
};

// Every check the verifier makes on one entry, made inside PostgreSQL over a run of seqs (in parallel workers
// where the server has them): the entry links to the hash of the row before it in the run, its text hashes to
// its entry hash (or its removal was recorded by the purge) and the columns stored beside the text (what the
// queries read) agree with it (audit-entry-columns.sql.ts), and its hash recomputes. Each join is bounded to
// the run on both sides, or the planner scans the joined table from its start. Functions are schema-qualified,
// so that an object of the same name elsewhere on the search path cannot stand in for them.
const CHECK_RANGE_SQL = `
  SELECT count(*)::float8 AS entries,
         count(*) FILTER (WHERE p.seq IS NULL AND x.seq IS NOT NULL)::float8 AS purged,
         coalesce(bool_and(coalesce(
           pg_catalog.octet_length(e.prev_hash) = 32 AND pg_catalog.octet_length(e.entry_hash) = 32
           AND pg_catalog.sha256(e.prev_hash || pg_catalog.int8send(e.seq) || e.entry_hash) = e.hash
           AND (e.seq = $1 OR b.hash = e.prev_hash)
           AND CASE WHEN p.seq IS NULL THEN x.seq IS NOT NULL
                    ELSE pg_catalog.sha256(pg_catalog.convert_to(p.entry, 'UTF8')) = e.entry_hash
                         AND ${ENTRY_COLUMNS_MATCH_SQL} END,
           false)), false) AS clean
    FROM audit_events e
    LEFT JOIN audit_events b ON b.seq = e.seq - 1 AND b.seq >= $1 AND b.seq < $2
    LEFT JOIN audit_event_payloads p ON p.seq = e.seq AND p.seq >= $1 AND p.seq <= $2
    LEFT JOIN audit_purged_events x ON x.seq = e.seq AND x.seq >= $1 AND x.seq <= $2
   WHERE e.seq >= $1 AND e.seq <= $2`;

/**
 * Streams the chain by keyset (`seq > last`), BATCH entries per query, each in its own statement: rows up to the
 * tip never change, so no long snapshot is held, and memory stays flat whatever the chain's length.
 */
@Injectable()
export class PostgresAuditChainReader extends AuditChainReader {
  constructor(private readonly em: EntityManager) {
    super();
  }

  async tip(): Promise<ChainTip> {
    const [row] = await runSql<{ seq: string; hash: Buffer }>(
      this.em,
      // Ordered by the bigint column: the text alias would sort '9999' after '12000'.
      'SELECT e.seq::text AS seq, e.hash FROM audit_events e ORDER BY e.seq DESC LIMIT 1',
    );
    return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  async hashAt(seq: number): Promise<Buffer | null> {
    const [row] = await runSql<{ hash: Buffer }>(this.em, 'SELECT hash FROM audit_events WHERE seq = $1', [seq]);
    return row?.hash ?? null;
  }

  async checkRange(first: number, last: number, headSeqs: readonly number[]): Promise<CheckedRange | null> {
    const [summary] = await runSql<{ entries: number; purged: number; clean: boolean }>(this.em, CHECK_RANGE_SQL, [
      first,
      last,
    ]);
    if (!summary?.clean || summary.entries !== last - first + 1) return null;
    const rows = await runSql<{ seq: number; prev_hash: Buffer; hash: Buffer }>(
      this.em,
      'SELECT seq::float8 AS seq, prev_hash, hash FROM audit_events WHERE seq = ANY($1::bigint[])',
      [[first, last, ...headSeqs]],
    );
    const bySeq = new Map(rows.map((row) => [Number(row.seq), row]));
    const firstRow = bySeq.get(first);
    const lastRow = bySeq.get(last);
    if (!firstRow || !lastRow) return null;
    return {
      firstSeq: first,
      lastSeq: last,
      firstPrevHash: firstRow.prev_hash,
      lastHash: lastRow.hash,
      purged: summary.purged,
      hashesAt: new Map(headSeqs.flatMap((seq) => (bySeq.has(seq) ? [[seq, bySeq.get(seq)!.hash]] : []))),
    };
  }

  async *records(
    fromSeq: number,
    toSeq: number,
    entries: ChainEntries = 'text',
  ): AsyncGenerator<readonly ChainRecord[]> {
    if (fromSeq > toSeq) return;
    // Each query asks for an exact seq window: with the tip as its bound, the planner expects the whole table
    // and hash-joins all of it for every batch (measured: five times slower at a million entries).
    const window = (after: number): [number, number] => [after, Math.min(toSeq, after + BATCH)];
    // One batch ahead: PostgreSQL runs the next query (in its own process) while the caller hashes this batch.
    let bounds = window(fromSeq - 1);
    let next: Promise<readonly ChainRecord[]> | null = this.batch(bounds, entries);
    while (next) {
      const batch: readonly ChainRecord[] = await next;
      const upper = bounds[1];
      if (upper < toSeq) {
        bounds = window(upper);
        next = this.batch(bounds, entries);
        // Observed now, so that a consumer stopping early (a failed check) leaves no unhandled rejection; a
        // consumer that goes on gets the error from the await above.
        next.catch(() => undefined);
      } else {
        next = null;
      }
      if (batch.length > 0) yield batch;
    }
  }

  private async batch([after, upTo]: [number, number], entries: ChainEntries): Promise<readonly ChainRecord[]> {
    const rows = await runSql<ChainRow>(this.em, RECORDS_SQL[entries], [after, upTo]);
    const batch = new Array<ChainRecord>(rows.length);
    for (let index = 0; index < rows.length; index += 1) {
      const row = rows[index];
      batch[index] = {
        seq: Number(row.seq),
        entryHash: row.hashes.subarray(0, HASH_BYTES),
        prevHash: row.hashes.subarray(HASH_BYTES, 2 * HASH_BYTES),
        hash: row.hashes.subarray(2 * HASH_BYTES, 3 * HASH_BYTES),
        entry: row.entry ?? null,
        entryMatches: row.entry_matches ?? undefined,
        mismatchedColumns: row.mismatched_columns ?? undefined,
        purged: row.purged,
      };
    }
    return batch;
  }
}
