import { runSql } from '@app/persistence';
import { EntityManager, IsolationLevel } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditRetention } from '../application/ports/audit-retention.port.js';
import { AUDIT_PROJECTIONS } from './audit-projections.js';

/**
 * Runs `audit_purge_payloads` (which keeps held students' entries and disclosures of existing students) and
 * drops the purged entries from the read models in the same transaction, so a rebuilt read model equals the
 * incrementally kept one. The purge records each entry it drops in `audit_purged_events` with this
 * transaction's `now()`, which is how the read-model rows are found.
 */
@Injectable()
export class PostgresAuditRetention extends AuditRetention {
  constructor(private readonly em: EntityManager) {
    super();
  }

  purgeBatch(cutoff: Date, limit: number): Promise<number> {
    return this.em.fork().transactional(
      async (em) => {
        // A projector batch in flight may have read entries this batch drops: wait for it to commit first.
        await runSql(em, 'SELECT name FROM audit_projection_positions ORDER BY name FOR UPDATE');
        const [row] = await runSql<{ purged: string }>(em, 'SELECT audit_purge_payloads($1, $2)::text AS purged', [
          cutoff.toISOString(),
          limit,
        ]);
        const purged = Number(row?.purged ?? 0);
        if (purged === 0) return 0;
        for (const projection of AUDIT_PROJECTIONS) {
          await runSql(
            em,
            `DELETE FROM ${projection.table} t USING audit_purged_events x
              WHERE x.purged_at = now() AND t.seq = x.seq`,
          );
        }
        return purged;
      },
      { isolationLevel: IsolationLevel.READ_COMMITTED },
    );
  }
}
