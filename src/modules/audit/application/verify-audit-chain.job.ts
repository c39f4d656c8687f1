import type { JobPayload } from '@app/contracts';
import { JobHandler, JobQueue, type HandlesJob, type HasConfiguredSchedule } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { AuditConfig } from '../../../config/index.js';
import { RunAuditVerificationCommand } from './commands/run-audit-verification.command.js';
import { AuditAlerts } from './ports/audit-alerts.port.js';
import { verificationFailedAlert } from './verification-failed-alert.js';

/**
 * Verifies the audit chain on AUDIT_VERIFY_CRON (daily by default), from the last verified checkpoint on. A
 * problem found is recorded and alerted (the `compliance` room, /metrics, and an `audit.verification-failed`
 * alert queued for each configured channel: ALERT_WEBHOOK_URL, SMTP_URL), not retried: the next run looks again
 * and alerts again.
 */
@Injectable()
@JobHandler('audit.verify-chain', { schedule: { cron: '30 3 * * *', payload: {} } })
export class VerifyAuditChainJob implements HandlesJob<JobPayload<'audit.verify-chain'>>, HasConfiguredSchedule {
  private readonly logger = new Logger('AuditVerification');

  constructor(
    private readonly commands: CommandBus,
    private readonly config: AuditConfig,
    private readonly alerts: AuditAlerts,
    private readonly queue: JobQueue,
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
      // One id for the alert on every channel and every retry: receivers dedupe on it.
      const alert = verificationFailedAlert(randomUUID(), result);
      for (const channel of this.alerts.enabledChannels()) {
        await this.queue.enqueue(
          'audit.deliver-alert',
          { alert, channel },
          { jobId: `audit-alert-${alert.id}-${channel}` },
        );
      }
    }
  }
}
