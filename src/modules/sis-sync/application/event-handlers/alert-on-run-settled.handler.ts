import { SisSyncRunSettledV1 } from '@app/contracts';
import { Clock } from '@app/ddd';
import { JobQueue } from '@app/queue';
import { Inject, Logger } from '@nestjs/common';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { AlertsConfig } from '../../../../config/index.js';
import {
  consecutiveFailuresAlert,
  runFailedAlert,
  runHeldAlert,
  type AlertChannel,
  type NewSyncAlert,
} from '../../domain/sync-alert.js';
import { ConnectionHealthRepository } from '../ports/connection-health.repository.js';
import { NOTIFIERS, Notifier } from '../ports/notifier.port.js';
import { SisConnectionRepository } from '../ports/sis-connection.repository.js';
import { SyncAlertRepository } from '../ports/sync-alert.repository.js';
import { SyncRunRepository } from '../ports/sync-run.repository.js';

/**
 * Decides which alerts a settled run raises and queues their delivery, one job per configured channel:
 * a failed run, a held run, and a connection that failed `ALERT_CONSECUTIVE_FAILURES` times in a row (once per
 * streak). Dry runs raise nothing. Each alert is stored once (its dedupe key), so seeing an event twice sends
 * nothing twice; the stored alert is what every retry sends.
 */
@EventsHandler(SisSyncRunSettledV1)
export class AlertOnRunSettledHandler implements IEventHandler<SisSyncRunSettledV1> {
  private readonly logger = new Logger('SisSyncAlerts');

  constructor(
    private readonly runs: SyncRunRepository,
    private readonly connections: SisConnectionRepository,
    private readonly health: ConnectionHealthRepository,
    private readonly alerts: SyncAlertRepository,
    private readonly queue: JobQueue,
    @Inject(NOTIFIERS) private readonly notifiers: readonly Notifier[],
    private readonly config: AlertsConfig,
    private readonly clock: Clock,
  ) {}

  handle(event: SisSyncRunSettledV1): Promise<void> {
    return this.decide(event).catch((error: Error) =>
      this.logger.error(`Could not raise the alerts of sync run ${event.runId}: ${error.message}`),
    );
  }

  /** Resolves once the alerts are stored and their deliveries queued. */
  async decide(event: SisSyncRunSettledV1): Promise<void> {
    if (event.dryRun || (event.outcome !== 'failed' && event.outcome !== 'held')) return;
    const channels = this.notifiers.filter((notifier) => notifier.enabled).map((notifier) => notifier.channel);
    if (channels.length === 0) return;
    const run = await this.runs.findById(event.runId);
    // A run whose connection was deleted fails on purpose: nobody is left to tell.
    const connection = run ? await this.connections.findById(run.connectionId) : null;
    if (!run || !connection) return;
    const at = this.clock.now();
    const context = { at, connection, run, linkBaseUrl: this.config.linkBaseUrl };
    if (event.outcome === 'held') {
      await this.raise(runHeldAlert({ ...context, id: randomUUID() }), channels, at);
      return;
    }
    await this.raise(runFailedAlert({ ...context, id: randomUUID() }), channels, at);
    const streak = await this.health.failureStreak(connection.id);
    if (streak && streak.count >= this.config.consecutiveFailures) {
      await this.raise(
        consecutiveFailuresAlert({ ...context, id: randomUUID(), streak, threshold: this.config.consecutiveFailures }),
        channels,
        at,
      );
    }
  }

  private async raise(alert: NewSyncAlert, channels: readonly AlertChannel[], at: Date): Promise<void> {
    const { created, stored } = await this.alerts.add(alert, at);
    if (created) this.logger.log(`${alert.alert.summary} (alert ${stored.id})`);
    for (const channel of channels) {
      if (stored.delivered[channel]) continue;
      // The job id dedupes a second enqueue (an event seen twice) while the first job is still known.
      await this.queue.enqueue(
        'sis-sync.deliver-alert',
        { alertId: stored.id, channel },
        { jobId: `sis-sync-alert-${stored.id}-${channel}` },
      );
    }
  }
}
