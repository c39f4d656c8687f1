import type { JobPayload } from '@app/contracts';
import { JobHandler, type HandlesJob } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { SignAuditCheckpointCommand } from './commands/sign-audit-checkpoint.command.js';

/**
 * Checks every minute whether a checkpoint is due (AUDIT_CHECKPOINT_INTERVAL_MINUTES since the last one) and
 * signs one, even when nothing was appended: a signed "still N entries" is what makes silence provable. The
 * interval lives in configuration, so the cron only sets how often that is checked.
 */
@Injectable()
@JobHandler('audit.sign-checkpoint', { schedule: { cron: '* * * * *', payload: {} }, runOnStart: true })
export class SignAuditCheckpointJob implements HandlesJob<JobPayload<'audit.sign-checkpoint'>> {
  private readonly logger = new Logger('AuditCheckpoints');

  constructor(private readonly commands: CommandBus) {}

  async handle(): Promise<void> {
    const { checkpoint, created } = await this.commands.execute(new SignAuditCheckpointCommand('due'));
    if (created) this.logger.log(`Signed audit checkpoint ${checkpoint.id} covering ${checkpoint.size} entries`);
  }
}
