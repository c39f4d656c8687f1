import type { JobPayload } from '@app/contracts';
import { JobHandler, type HandlesJob } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { PurgeExpiredAuditEntriesCommand } from './commands/purge-expired-audit-entries.command.js';

/** The daily retention purge of the audit trail (payloads only: the chain keeps every seq and hash). */
@Injectable()
@JobHandler('audit.purge-expired', { schedule: { cron: '40 3 * * *', payload: {} } })
export class PurgeExpiredAuditEntriesJob implements HandlesJob<JobPayload<'audit.purge-expired'>> {
  private readonly logger = new Logger('AuditRetention');

  constructor(private readonly commands: CommandBus) {}

  async handle(): Promise<void> {
    const result = await this.commands.execute(new PurgeExpiredAuditEntriesCommand());
    this.logger.log(
      `Purged ${result.purged} audit entr${result.purged === 1 ? 'y' : 'ies'} older than ${result.cutoff.toISOString()}`,
    );
  }
}
