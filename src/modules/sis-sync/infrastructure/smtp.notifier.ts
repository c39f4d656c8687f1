import { SmtpAlertChannel } from '@app/alerting';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AlertsConfig } from '../../../config/index.js';
import { Notifier } from '../application/ports/notifier.port.js';
import type { SyncAlert } from '../domain/sync-alert.js';
import { syncAlertMessage } from './sync-alert.message.js';

export { renderAlertEmail } from './sync-alert.message.js';

/**
 * Alerts as plain-text email through `SMTP_URL`, from `ALERT_EMAIL_FROM` to `ALERT_EMAIL_TO` (the transport
 * is `@app/alerting`'s, closed with the application). A refused or failed send throws (without the URL or its
 * credentials) and the queue retries it.
 */
@Injectable()
export class SmtpNotifier extends Notifier implements OnModuleDestroy {
  readonly channel = 'email' as const;
  private readonly transport: SmtpAlertChannel;

  constructor(config: AlertsConfig) {
    super();
    this.transport = new SmtpAlertChannel(config.email);
  }

  get enabled(): boolean {
    return this.transport.enabled;
  }

  send(alert: SyncAlert): Promise<void> {
    return this.transport.send(syncAlertMessage(alert));
  }

  onModuleDestroy(): void {
    this.transport.close();
  }
}
