import type { JobPayload } from '@app/contracts';
import { JobHandler, type HandlesJob } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { AuditProjector } from './ports/audit-projector.port.js';

/**
 * Keeps the audit read models fresh between queries (every query also catches up before it reads), so a
 * query after a busy hour does not pay for the whole backlog.
 */
@Injectable()
@JobHandler('audit.project', { schedule: { cron: '* * * * *', payload: {} } })
export class ProjectAuditTrailJob implements HandlesJob<JobPayload<'audit.project'>> {
  private readonly logger = new Logger('AuditProjections');

  constructor(private readonly projector: AuditProjector) {}

  async handle(): Promise<void> {
    const read = await this.projector.catchUp();
    if (read > 0) this.logger.debug(`Projected ${read} audit entr${read === 1 ? 'y' : 'ies'}`);
  }
}
