import { Clock } from '@app/ddd';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AuditConfig } from '../../../../config/index.js';
import { AuditLog } from '../ports/audit-log.port.js';
import { AuditRetention } from '../ports/audit-retention.port.js';
import { SYSTEM_AUDIT_ACTOR } from '../system-audit-actor.js';

export interface RetentionPurgeResult {
  cutoff: Date;
  purged: number;
  batches: number;
}

/** Entries purged per transaction: short transactions keep the read models' lock brief. */
export const PURGE_BATCH = 10_000;

/**
 * Drops the payload of audit entries older than the retention period (`AUDIT_RETENTION_DAYS`) and records the
 * run as one `audit.retention.purge` entry. `at` stands for "now" (tests move it; the daily job passes none).
 */
export class PurgeExpiredAuditEntriesCommand extends Command<RetentionPurgeResult> {
  constructor(readonly at?: Date) {
    super();
  }
}

@CommandHandler(PurgeExpiredAuditEntriesCommand)
export class PurgeExpiredAuditEntriesHandler implements ICommandHandler<PurgeExpiredAuditEntriesCommand> {
  constructor(
    private readonly retention: AuditRetention,
    private readonly log: AuditLog,
    private readonly config: AuditConfig,
    private readonly clock: Clock,
  ) {}

  async execute({ at }: PurgeExpiredAuditEntriesCommand): Promise<RetentionPurgeResult> {
    const now = at ?? this.clock.now();
    const cutoff = new Date(now.getTime() - this.config.retentionDays * 86_400_000);
    let purged = 0;
    let batches = 0;
    for (;;) {
      const count = await this.retention.purgeBatch(cutoff, PURGE_BATCH);
      if (count === 0) break;
      purged += count;
      batches += 1;
    }
    await this.log.append([
      {
        action: 'audit.retention.purge',
        resource: { type: 'audit_trail', id: null },
        actor: SYSTEM_AUDIT_ACTOR,
        studentIds: [],
        dataCategories: ['audit_trail'],
        outcome: 'allowed',
        origin: { channel: 'job' },
        details: {
          asOf: now.toISOString(),
          cutoff: cutoff.toISOString(),
          retentionDays: this.config.retentionDays,
          purged,
          batches,
        },
        occurredAt: this.clock.now(),
      },
    ]);
    return { cutoff, purged, batches };
  }
}
