import type { JobPayload } from '@app/contracts';
import { Clock } from '@app/ddd';
import { JobHandler, type HandlesJob } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ListSyncRunsQuery, isTerminal, type SyncRun } from '../../sis-sync/index.js';
import { AuditLog } from './ports/audit-log.port.js';
import { syncRunEntry } from './sync-run-entry.js';

/** Runs settled this long ago or less are checked (a stopped process is back well within it). */
const SETTLED_WITHIN_MS = 24 * 60 * 60 * 1000;
/** Runs created this long ago or less are listed (a held run can wait for approval for days). */
const CREATED_WITHIN_MS = 30 * 24 * 60 * 60 * 1000;
const PAGE = 100;

/**
 * Writes the `roster_sync.applied` entry of a run whose settling event found no process to record it (the
 * process stopped between the run's commit and the append). Runs every five minutes and at start-up; an entry
 * already stored is never written twice (`AuditLog.appendUnlessRecorded`).
 */
@Injectable()
@JobHandler('audit.record-sync-runs', { schedule: { cron: '*/5 * * * *', payload: {} }, runOnStart: true })
export class RecordSyncRunsJob implements HandlesJob<JobPayload<'audit.record-sync-runs'>> {
  private readonly logger = new Logger('AuditSyncRuns');

  constructor(
    private readonly queries: QueryBus,
    private readonly log: AuditLog,
    private readonly clock: Clock,
  ) {}

  async handle(): Promise<void> {
    await this.recordMissed();
  }

  /** Resolves to the number of entries it wrote. */
  async recordMissed(): Promise<number> {
    const now = this.clock.now().getTime();
    let written = 0;
    let cursor: string | undefined;
    do {
      const page = await this.queries.execute(new ListSyncRunsQuery(PAGE, cursor));
      for (const run of page.items) {
        if (now - run.createdAt.getTime() > CREATED_WITHIN_MS) return this.done(written);
        if (await this.recordIfMissing(run, now)) written += 1;
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return this.done(written);
  }

  private async recordIfMissing(run: SyncRun, now: number): Promise<boolean> {
    if (!isTerminal(run.state) || !run.finishedAt || now - run.finishedAt.getTime() > SETTLED_WITHIN_MS) return false;
    const draft = syncRunEntry({
      runId: run.id,
      connectionId: run.connectionId,
      outcome: run.state,
      dryRun: run.dryRun,
      counts: run.counts as SyncRunCounts,
      settledAt: run.finishedAt,
    });
    return draft ? this.log.appendUnlessRecorded(draft) : false;
  }

  private done(written: number): number {
    if (written > 0) {
      this.logger.warn(`Recorded ${written} settled sync run${written === 1 ? '' : 's'} the audit trail had missed`);
    }
    return written;
  }
}

type SyncRunCounts = Readonly<Record<string, Readonly<Record<string, unknown>>>>;
