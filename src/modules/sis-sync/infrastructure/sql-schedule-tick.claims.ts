import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { ScheduleTickClaims } from '../application/ports/schedule-tick.claims.js';

@Injectable()
export class SqlScheduleTickClaims extends ScheduleTickClaims {
  constructor(private readonly em: EntityManager) {
    super();
  }

  async claim(connectionId: string, tick: Date): Promise<boolean> {
    const rows = await runSql(
      this.em,
      `UPDATE sis_connections SET last_scheduled_at = $2
        WHERE id = $1 AND deleted_at IS NULL AND (last_scheduled_at IS NULL OR last_scheduled_at < $2)
        RETURNING id`,
      [connectionId, tick],
    );
    return rows.length === 1;
  }
}
