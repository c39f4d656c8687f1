import { Clock } from '@app/ddd';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { CronTime } from 'cron';
import type { ConnectionHealth } from '../../domain/connection-health.js';
import { nextScheduledRun } from '../../domain/next-scheduled-run.js';
import type { SisConnection } from '../../domain/sis-connection.js';
import { ConnectionNotFoundError } from '../../domain/sis-sync.errors.js';
import { ConnectionHealthRepository } from '../ports/connection-health.repository.js';
import { SisConnectionRepository } from '../ports/sis-connection.repository.js';

/** Last success, failure streak, last error, next scheduled run, token expiry and active run of a connection. */
export class GetConnectionHealthQuery extends Query<ConnectionHealth> {
  constructor(readonly connectionId: string) {
    super();
  }
}

@QueryHandler(GetConnectionHealthQuery)
export class GetConnectionHealthHandler implements IQueryHandler<GetConnectionHealthQuery, ConnectionHealth> {
  constructor(
    private readonly connections: SisConnectionRepository,
    private readonly health: ConnectionHealthRepository,
    private readonly clock: Clock,
  ) {}

  async execute({ connectionId }: GetConnectionHealthQuery): Promise<ConnectionHealth> {
    const connection = await this.connections.findById(connectionId);
    if (!connection) throw new ConnectionNotFoundError(connectionId);
    const health = await this.health.read(connection.id);
    return {
      ...health,
      enabled: connection.enabled,
      nextScheduledRun: connection.enabled ? nextRunOf(connection, this.clock.now()) : null,
    };
  }
}

/** As the dispatcher sees the schedule: the cron read in the schedule's time zone, blackout dates skipped. */
export function nextRunOf(connection: SisConnection, now: Date): Date | null {
  const schedule = connection.settings.schedule;
  if (!schedule) return null;
  let cron: CronTime;
  try {
    cron = new CronTime(schedule.cron, schedule.timeZone);
  } catch {
    return null;
  }
  return nextScheduledRun(
    now,
    (instant) => {
      try {
        return cron.getNextDateFrom(instant, schedule.timeZone).toJSDate();
      } catch {
        return null; // the cron library gives up when a schedule has no tick within eight years
      }
    },
    schedule.timeZone,
    connection.settings.blackoutWindows,
  );
}
