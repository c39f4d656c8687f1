import type { JobPayload } from '@app/contracts';
import { Clock } from '@app/ddd';
import { JobHandler, type HandlesJob, type JobContext } from '@app/queue';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { NOTIFIERS, Notifier } from './ports/notifier.port.js';
import { SyncAlertRepository } from './ports/sync-alert.repository.js';

/**
 * Sends one stored alert on one channel. A failure throws, and the queue retries with exponential backoff
 * (5 s, 10 s, 20 s, …, ten tries in all); in Redis the retries survive restarts. A channel switched off since
 * the alert was raised, or one that already accepted it, is skipped.
 */
@Injectable()
@JobHandler('sis-sync.deliver-alert')
export class DeliverAlertJob implements HandlesJob<JobPayload<'sis-sync.deliver-alert'>> {
  private readonly logger = new Logger('SisSyncAlerts');

  constructor(
    private readonly alerts: SyncAlertRepository,
    @Inject(NOTIFIERS) private readonly notifiers: readonly Notifier[],
    private readonly clock: Clock,
  ) {}

  async handle({ alertId, channel }: JobPayload<'sis-sync.deliver-alert'>, context: JobContext): Promise<void> {
    const stored = await this.alerts.findById(alertId);
    if (!stored) {
      this.logger.warn(`Alert ${alertId} no longer exists; nothing to send`);
      return;
    }
    if (stored.delivered[channel]) return;
    const notifier = this.notifiers.find((candidate) => candidate.channel === channel);
    if (!notifier?.enabled) {
      this.logger.warn(`Alert ${alertId} not sent by ${channel}: the channel is not configured any more`);
      return;
    }
    try {
      await notifier.send(stored.alert);
    } catch (error) {
      this.logger.warn(
        `Alert ${alertId} by ${channel}, attempt ${context.attempt}, failed: ${(error as Error).message}`,
      );
      throw error;
    }
    await this.alerts.markDelivered(alertId, channel, this.clock.now());
  }
}
