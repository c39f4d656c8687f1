import type { JobPayload } from '@app/contracts';
import { Clock } from '@app/ddd';
import { JobHandler, type HandlesJob } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { CronTime } from 'cron';
import { RunAlreadyActiveError } from '../domain/sis-sync.errors.js';
import { blackoutAt, latestDueTick } from '../domain/sync-schedule.js';
import { StartSyncRunCommand } from './commands/start-sync-run.command.js';
import { ScheduleTickClaims } from './ports/schedule-tick.claims.js';
import { SisConnectionRepository } from './ports/sis-connection.repository.js';
import { SyncRunRepository } from './ports/sync-run.repository.js';

const DAY_MS = 86_400_000;

/**
 * Every minute: for each connection with a schedule, the latest due tick is claimed in the database (so it
 * fires once across all workers) and starts a delta run, or a full one when the last full reconciliation is
 * older than the connection allows. Ticks inside a blackout window are claimed and skipped.
 */
@Injectable()
@JobHandler('sis-sync.dispatch-scheduled-runs', { schedule: { cron: '* * * * *', payload: {} } })
export class DispatchScheduledRunsJob implements HandlesJob<JobPayload<'sis-sync.dispatch-scheduled-runs'>> {
  private readonly logger = new Logger('SisSync');

  constructor(
    private readonly connections: SisConnectionRepository,
    private readonly runs: SyncRunRepository,
    private readonly claims: ScheduleTickClaims,
    private readonly commands: CommandBus,
    private readonly clock: Clock,
  ) {}

  async handle(): Promise<void> {
    const now = this.clock.now();
    for (const connection of await this.connections.list()) {
      const schedule = connection.settings.schedule;
      // A CSV connection's runs are uploads (the policy refuses it a schedule; a hand-edited row gets none either).
      if (!connection.enabled || !schedule || connection.provider === 'oneroster-csv') continue;
      const cron = new CronTime(schedule.cron, schedule.timeZone);
      const since = new Date(Math.max(connection.updatedAt.getTime(), now.getTime() - DAY_MS));
      // `getNextDateFrom` reads the instant in the zone it is given (the process's zone otherwise), not the
      // zone the CronTime was built with.
      const tick = latestDueTick(since, now, (instant) => cron.getNextDateFrom(instant, schedule.timeZone).toJSDate());
      if (!tick || !(await this.claims.claim(connection.id, tick))) continue;
      const blackout = blackoutAt(tick, schedule.timeZone, connection.settings.blackoutWindows);
      if (blackout) {
        this.logger.log(`Scheduled sync of "${connection.name}" skipped: blackout ${blackout.from}..${blackout.to}`);
        continue;
      }
      const lastFull = await this.runs.lastSuccessful(connection.id, 'full');
      const reconciliationDue =
        !lastFull?.startedAt ||
        now.getTime() - lastFull.startedAt.getTime() > connection.settings.fullReconciliationDays * DAY_MS;
      try {
        await this.commands.execute(
          new StartSyncRunCommand({
            connectionId: connection.id,
            mode: reconciliationDue ? 'full' : 'delta',
            dryRun: false,
            trigger: 'schedule',
            requestedBy: null,
          }),
        );
      } catch (error) {
        if (!(error instanceof RunAlreadyActiveError)) throw error;
        this.logger.warn(`Scheduled sync of "${connection.name}" skipped: a run is already active`);
      }
    }
  }
}
