import { SisSyncRunSettledV1 } from '@app/contracts';
import { Logger } from '@nestjs/common';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { AuditLog } from '../ports/audit-log.port.js';
import { syncRunEntry } from '../sync-run-entry.js';

/**
 * Writes from sync runs are recorded per run with their counts: one `roster_sync.applied` entry when a run
 * that changed the roster mirror settles (see `syncRunEntry`). An entry this misses (the process stopped between
 * the run's settling and the append) is written by the `audit.record-sync-runs` job; neither writes a second.
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

  /** Resolves once the entry is stored (or the run needs none, or has it already). */
  async record(event: SisSyncRunSettledV1): Promise<void> {
    const draft = syncRunEntry({ ...event, settledAt: new Date(event.occurredAt) });
    if (draft) await this.log.appendUnlessRecorded(draft);
  }
}
