import { GENESIS_HASH, HASH_BYTES, type ChainRecord } from '@app/audit-chain';
import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditChainReader, type ChainTip } from '../application/ports/audit-chain.reader.port.js';

/** Rows per query: about 7 MB of entries per round trip. */
const BATCH = 10_000;

interface ChainRow {
  seq: number | string;
  hashes: Buffer;
  entry: string | null;
  purged: boolean;
}

// The three hashes travel as one bytea and seq as float8 (exact below 2^53): per-field parsing in the driver
// costs more than the hashing the verifier does, so fewer fields per row is most of the speed. An entry without
// a payload row is either purged (the purge trigger wrote audit_purged_events in the same transaction) or gone
// by other means, which the verifier reports as tampering.
const RECORDS_SQL = `
  SELECT e.seq::float8 AS seq, e.entry_hash || e.prev_hash || e.hash AS hashes, p.entry,
         (x.seq IS NOT NULL) AS purged
    FROM audit_events e
    LEFT JOIN audit_event_payloads p ON p.seq = e.seq
    LEFT JOIN audit_purged_events x ON x.seq = e.seq
   WHERE e.seq > $1 AND e.seq <= $2
   ORDER BY e.seq
   LIMIT $3`;

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

  async *records(fromSeq: number, toSeq: number): AsyncGenerator<readonly ChainRecord[]> {
    if (fromSeq > toSeq) return;
    // One batch ahead: PostgreSQL runs the next query (in its own process) while the caller hashes this batch.
    let next: Promise<readonly ChainRecord[]> | null = this.batch(fromSeq - 1, toSeq);
    while (next) {
      const batch: readonly ChainRecord[] = await next;
      if (batch.length === 0) return;
      const last = batch[batch.length - 1].seq;
      next = batch.length === BATCH && last < toSeq ? this.batch(last, toSeq) : null;
      // Observed now, so that a consumer stopping early (a failed check) leaves no unhandled rejection; a
      // consumer that goes on gets the error from the await above.
      next?.catch(() => undefined);
      yield batch;
    }
  }

  private async batch(after: number, toSeq: number): Promise<readonly ChainRecord[]> {
    const rows = await runSql<ChainRow>(this.em, RECORDS_SQL, [after, toSeq, BATCH]);
    const batch = new Array<ChainRecord>(rows.length);
    for (let index = 0; index < rows.length; index += 1) {
      const row = rows[index];
      batch[index] = {
        seq: Number(row.seq),
        entryHash: row.hashes.subarray(0, HASH_BYTES),
        prevHash: row.hashes.subarray(HASH_BYTES, 2 * HASH_BYTES),
        hash: row.hashes.subarray(2 * HASH_BYTES, 3 * HASH_BYTES),
        entry: row.entry,
        purged: row.purged,
      };
    }
    return batch;
  }
}
