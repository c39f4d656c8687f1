import { SisSyncRunSettledV1 } from '@app/contracts';
import { Logger } from '@nestjs/common';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { AuditLog } from '../ports/audit-log.port.js';
import { SYSTEM_AUDIT_ACTOR } from '../system-audit-actor.js';

/** Count keys that mean the run wrote to the roster mirror. */
const WRITE_COUNTS = ['created', 'updated', 'restored', 'deactivated'] as const;

/**
 * Writes from sync runs are recorded per run with their counts: one `roster_sync.applied` entry when a run
 * that changed the roster mirror settles (failed runs too: their committed chunks stay applied). Dry runs,
 * held runs and runs that changed nothing are not entries; the per-record history is the run's change log.
 */
@EventsHandler(SisSyncRunSettledV1)
export class RecordSyncRunHandler implements IEventHandler<SisSyncRunSettledV1> {
  private readonly logger = new Logger('AuditSyncRuns');

  constructor(private readonly log: AuditLog) {}

  handle(event: SisSyncRunSettledV1): Promise<void> {
    return this.record(event).catch((error: Error) =>
      this.logger.error(`Could not record sync run ${event.runId} in the audit trail: ${error.message}`),
    );
  }

  /** Resolves once the entry is stored (or the run needs none). */
  async record(event: SisSyncRunSettledV1): Promise<void> {
    if (event.dryRun || event.outcome === 'held') return;
    const counts: Record<string, Record<string, number>> = {};
    let written = 0;
    for (const [entity, byAction] of Object.entries(event.counts)) {
      const numeric = Object.fromEntries(
        Object.entries(byAction).filter(([, value]) => typeof value === 'number' && Number.isFinite(value)),
      );
      counts[entity] = numeric;
      for (const action of WRITE_COUNTS) written += numeric[action] ?? 0;
    }
    if (written === 0) return;
    await this.log.append([
      {
        action: 'roster_sync.applied',
        resource: { type: 'sync_run', id: event.runId },
        actor: SYSTEM_AUDIT_ACTOR,
        studentIds: [],
        dataCategories: ['roster_sync'],
        outcome: 'allowed',
        origin: { channel: 'job' },
        details: { runId: event.runId, connectionId: event.connectionId, outcome: event.outcome, written, counts },
        occurredAt: new Date(event.occurredAt),
      },
    ]);
  }
}
