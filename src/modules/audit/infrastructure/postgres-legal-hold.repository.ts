import { isUuid } from '@app/ddd';
import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import {
  LegalHoldRepository,
  type LegalHoldFilter,
  type LegalHoldPosition,
} from '../application/ports/legal-hold.repository.js';
import type { LegalHold } from '../domain/legal-hold.js';

interface LegalHoldRow {
  id: string;
  student_id: string;
  reason: string;
  placed_by: string;
  placed_at: string | Date;
  released_by: string | null;
  released_at: string | Date | null;
}

const COLUMNS = 'id, student_id, reason, placed_by, placed_at, released_by, released_at';

/** `audit_legal_holds`: the retention purge reads the active ones itself. */
@Injectable()
export class PostgresLegalHoldRepository extends LegalHoldRepository {
  constructor(private readonly em: EntityManager) {
    super();
  }

  async add(hold: LegalHold): Promise<void> {
    await runSql(
      this.em,
      `INSERT INTO audit_legal_holds (id, student_id, reason, placed_by, placed_at) VALUES ($1, $2, $3, $4, $5)`,
      [hold.id, hold.studentId, hold.reason, hold.placedBy, hold.placedAt.toISOString()],
    );
  }

  async findById(id: string): Promise<LegalHold | null> {
    if (!isUuid(id)) return null;
    const [row] = await runSql<LegalHoldRow>(this.em, `SELECT ${COLUMNS} FROM audit_legal_holds WHERE id = $1`, [id]);
    return row ? toLegalHold(row) : null;
  }

  async release(id: string, releasedBy: string, releasedAt: Date): Promise<LegalHold | null> {
    if (!isUuid(id)) return null;
    const [row] = await runSql<LegalHoldRow>(
      this.em,
      `UPDATE audit_legal_holds SET released_by = $2, released_at = $3
        WHERE id = $1 AND released_at IS NULL
        RETURNING ${COLUMNS}`,
      [id, releasedBy, releasedAt.toISOString()],
    );
    return row ? toLegalHold(row) : null;
  }

  async list(filter: LegalHoldFilter, after: LegalHoldPosition | undefined, limit: number): Promise<LegalHold[]> {
    const rows = await runSql<LegalHoldRow>(
      this.em,
      `SELECT ${COLUMNS} FROM audit_legal_holds
        WHERE ($1::uuid IS NULL OR student_id = $1::uuid)
          AND ($2::boolean IS NULL OR (released_at IS NULL) = $2::boolean)
          AND ($3::timestamptz IS NULL OR (placed_at, id) < ($3::timestamptz, $4::uuid))
        ORDER BY placed_at DESC, id DESC
        LIMIT $5`,
      [
        filter.studentId ?? null,
        filter.active ?? null,
        after?.placedAt.toISOString() ?? null,
        after?.id ?? null,
        limit,
      ],
    );
    return rows.map(toLegalHold);
  }
}

function toLegalHold(row: LegalHoldRow): LegalHold {
  return {
    id: row.id,
    studentId: row.student_id,
    reason: row.reason,
    placedBy: row.placed_by,
    placedAt: new Date(row.placed_at),
    releasedBy: row.released_by,
    releasedAt: row.released_at === null ? null : new Date(row.released_at),
  };
}
