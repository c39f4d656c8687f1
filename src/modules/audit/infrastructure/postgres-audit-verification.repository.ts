import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import {
  AuditVerificationRepository,
  type AuditVerificationRecord,
} from '../application/ports/audit-verification.repository.js';

interface VerificationRow {
  verified_at: Date | string;
  ok: boolean;
  from_seq: string;
  to_seq: string;
  checked_entries: string;
  first_bad_seq: string | null;
  problem: string | null;
}

const COLUMNS = 'verified_at, ok, from_seq, to_seq, checked_entries, first_bad_seq, problem';

/** `audit_verifications`, append-only (its triggers refuse UPDATE, DELETE and TRUNCATE). */
@Injectable()
export class PostgresAuditVerificationRepository extends AuditVerificationRepository {
  constructor(private readonly em: EntityManager) {
    super();
  }

  async record(verification: AuditVerificationRecord): Promise<void> {
    await runSql(this.em, `INSERT INTO audit_verifications (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      verification.verifiedAt,
      verification.ok,
      verification.fromSeq,
      verification.toSeq,
      verification.checkedEntries,
      verification.firstBadSeq,
      verification.problem,
    ]);
  }

  async latest(): Promise<AuditVerificationRecord | null> {
    const [row] = await runSql<VerificationRow>(
      this.em,
      `SELECT ${COLUMNS} FROM audit_verifications ORDER BY id DESC LIMIT 1`,
    );
    return row ? toRecord(row) : null;
  }

  async latestSuccessful(): Promise<AuditVerificationRecord | null> {
    const [row] = await runSql<VerificationRow>(
      this.em,
      `SELECT ${COLUMNS} FROM audit_verifications WHERE ok ORDER BY id DESC LIMIT 1`,
    );
    return row ? toRecord(row) : null;
  }
}

function toRecord(row: VerificationRow): AuditVerificationRecord {
  return {
    verifiedAt: new Date(row.verified_at),
    ok: row.ok,
    fromSeq: Number(row.from_seq),
    toSeq: Number(row.to_seq),
    checkedEntries: Number(row.checked_entries),
    firstBadSeq: row.first_bad_seq === null ? null : Number(row.first_bad_seq),
    problem: row.problem,
  };
}
