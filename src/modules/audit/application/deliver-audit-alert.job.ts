import type { JobPayload } from '@app/contracts';
import { JobHandler, type HandlesJob, type JobContext } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { AuditAlerts } from './ports/audit-alerts.port.js';

/**
 * Sends one audit alert on one channel. A failure throws and the queue retries with exponential backoff (ten
 * tries); the alert travels in the payload, so every retry carries the same delivery id. A channel switched off
 * since the alert was raised is skipped.
 */
@Injectable()
@JobHandler('audit.deliver-alert')
export class DeliverAuditAlertJob implements HandlesJob<JobPayload<'audit.deliver-alert'>> {
  private readonly logger = new Logger('AuditAlerts');

  constructor(private readonly alerts: AuditAlerts) {}

  async handle({ alert, channel }: JobPayload<'audit.deliver-alert'>, context: JobContext): Promise<void> {
    if (!this.alerts.enabledChannels().includes(channel)) {
      this.logger.warn(`Audit alert ${alert.id} not sent by ${channel}: the channel is not configured any more`);
      return;
    }
    try {
      await this.alerts.send(channel, alert);
    } catch (error) {
      this.logger.warn(
        `Audit alert ${alert.id} by ${channel}, attempt ${context.attempt}, failed: ${(error as Error).message}`,
      );
      throw error;
    }
  }
}
