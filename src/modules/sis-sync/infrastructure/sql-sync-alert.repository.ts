import { isUuid } from '@app/ddd';
import { runSql } from '@app/persistence';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { SyncAlertRepository, type StoredSyncAlert } from '../application/ports/sync-alert.repository.js';
import { ALERT_CHANNELS, type AlertChannel, type NewSyncAlert, type SyncAlert } from '../domain/sync-alert.js';

interface AlertRow {
  id: string;
  payload: SyncAlert;
  delivered: Record<string, string>;
}

@Injectable()
export class SqlSyncAlertRepository extends SyncAlertRepository {
  constructor(private readonly em: EntityManager) {
    super();
  }

  async add(alert: NewSyncAlert, at: Date): Promise<{ created: boolean; stored: StoredSyncAlert }> {
    const [inserted] = await runSql<AlertRow>(
      this.em,
      `INSERT INTO sis_sync_alerts (id, connection_id, run_id, kind, dedupe_key, payload, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (dedupe_key) DO NOTHING
       RETURNING id, payload, delivered`,
      [alert.alert.id, alert.connectionId, alert.runId, alert.kind, alert.dedupeKey, JSON.stringify(alert.alert), at],
    );
    if (inserted) return { created: true, stored: toStored(inserted) };
    const [existing] = await runSql<AlertRow>(
      this.em,
      'SELECT id, payload, delivered FROM sis_sync_alerts WHERE dedupe_key = $1',
      [alert.dedupeKey],
    );
    if (!existing) throw new Error(`Alert ${alert.dedupeKey} was neither inserted nor found`);
    return { created: false, stored: toStored(existing) };
  }

  async findById(id: string): Promise<StoredSyncAlert | null> {
    if (!isUuid(id)) return null;
    const [row] = await runSql<AlertRow>(this.em, 'SELECT id, payload, delivered FROM sis_sync_alerts WHERE id = $1', [
      id,
    ]);
    return row ? toStored(row) : null;
  }

  async markDelivered(id: string, channel: AlertChannel, at: Date): Promise<void> {
    await runSql(
      this.em,
      `UPDATE sis_sync_alerts SET delivered = delivered || jsonb_build_object($2::text, $3::text) WHERE id = $1`,
      [id, channel, at.toISOString()],
    );
  }
}

function toStored(row: AlertRow): StoredSyncAlert {
  const delivered: Partial<Record<AlertChannel, Date>> = {};
  for (const channel of ALERT_CHANNELS) {
    const at = row.delivered?.[channel];
    if (at) delivered[channel] = new Date(at);
  }
  return { id: row.id, alert: row.payload, delivered };
}
