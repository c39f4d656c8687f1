import type { CheckpointRecord } from '@app/audit-chain';
import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditCheckpointRepository } from '../application/ports/audit-checkpoint.repository.js';

/** Namespace of the audit trail's advisory locks (the chain trigger holds (20261125, 1)). */
const LOCK_NAMESPACE = 20261125;
const SIGNING_LOCK = 2;

interface CheckpointRow {
  id: string;
  tree_size: string;
  head_hash: Buffer;
  signed_at: string;
  key_id: string;
  body: string;
  signature: Buffer;
}

// signed_at as the body writes it (ISO-8601 UTC with milliseconds), whatever the session's time zone. Every
// query orders by c.id, the bigint: a bare `id` would mean the text alias and sort '10' before '9'.
const COLUMNS = `c.id::text AS id, c.tree_size::text AS tree_size, c.head_hash,
  to_char(c.signed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS signed_at, c.key_id, c.body, c.signature`;

@Injectable()
export class PostgresAuditCheckpointRepository extends AuditCheckpointRepository {
  constructor(private readonly em: EntityManager) {
    super();
  }

  async lockForSigning(): Promise<void> {
    if (!this.em.isInTransaction()) throw new Error('lockForSigning() must run inside a transaction');
    await runSql(this.em, 'SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, SIGNING_LOCK]);
  }

  async latest(): Promise<CheckpointRecord | null> {
    const [row] = await runSql<CheckpointRow>(
      this.em,
      `SELECT ${COLUMNS} FROM audit_checkpoints c ORDER BY c.id DESC LIMIT 1`,
    );
    return row ? toRecord(row) : null;
  }

  async insert(checkpoint: CheckpointRecord): Promise<void> {
    await runSql(
      this.em,
      `INSERT INTO audit_checkpoints (id, tree_size, head_hash, signed_at, key_id, body, signature)
       VALUES ($1, $2, $3, $4::timestamptz, $5, $6, $7)`,
      [
        checkpoint.id,
        checkpoint.size,
        checkpoint.head,
        checkpoint.time,
        checkpoint.keyId,
        checkpoint.body,
        checkpoint.signature,
      ],
    );
  }

  async all(): Promise<CheckpointRecord[]> {
    const rows = await runSql<CheckpointRow>(this.em, `SELECT ${COLUMNS} FROM audit_checkpoints c ORDER BY c.id`);
    return rows.map(toRecord);
  }

  async page(limit: number, beforeId?: number): Promise<CheckpointRecord[]> {
    const rows = await runSql<CheckpointRow>(
      this.em,
      `SELECT ${COLUMNS} FROM audit_checkpoints c WHERE ($2::bigint IS NULL OR c.id < $2) ORDER BY c.id DESC LIMIT $1`,
      [limit, beforeId ?? null],
    );
    return rows.map(toRecord);
  }
}

function toRecord(row: CheckpointRow): CheckpointRecord {
  return {
    id: Number(row.id),
    size: Number(row.tree_size),
    head: row.head_hash,
    time: row.signed_at,
    keyId: row.key_id,
    body: row.body,
    signature: row.signature,
  };
}
