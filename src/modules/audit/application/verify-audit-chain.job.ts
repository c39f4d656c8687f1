import type { JobPayload } from '@app/contracts';
import { JobHandler, type HandlesJob, type HasConfiguredSchedule } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { AuditConfig } from '../../../config/index.js';
import { RunAuditVerificationCommand } from './commands/run-audit-verification.command.js';

/**
 * Verifies the audit chain on AUDIT_VERIFY_CRON (daily by default), from the last verified checkpoint on. A
 * problem found is recorded and alerted (the `compliance` room, the alert channels, /metrics), not retried: the
 * next run looks again.
 */
@Injectable()
@JobHandler('audit.verify-chain', { schedule: { cron: '30 3 * * *', payload: {} } })
export class VerifyAuditChainJob implements HandlesJob<JobPayload<'audit.verify-chain'>>, HasConfiguredSchedule {
  private readonly logger = new Logger('AuditVerification');

  constructor(
    private readonly commands: CommandBus,
    private readonly config: AuditConfig,
  ) {}

  scheduledCron(): string {
    return this.config.verifyCron;
  }

  async handle(): Promise<void> {
    const result = await this.commands.execute(new RunAuditVerificationCommand());
    if (result.ok) {
      this.logger.log(`Audit chain verified: entries ${result.fromSeq}..${result.toSeq} (${result.checkedEntries})`);
    } else {
      this.logger.error(
        `Audit chain verification FAILED at entry ${result.firstBadSeq ?? '?'}: ${result.problem ?? 'unknown problem'}`,
      );
    }
  }
}
