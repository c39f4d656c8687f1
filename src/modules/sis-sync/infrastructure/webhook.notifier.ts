import { WebhookAlertChannel } from '@app/alerting';
import { Injectable } from '@nestjs/common';
import { AlertsConfig } from '../../../config/index.js';
import { Notifier } from '../application/ports/notifier.port.js';
import type { SyncAlert } from '../domain/sync-alert.js';
import { syncAlertMessage } from './sync-alert.message.js';

export { SIGNATURE_HEADER, verifyWebhookSignature, webhookSignature } from '@app/alerting';

/**
 * Alerts as a signed JSON POST to `ALERT_WEBHOOK_URL` (the transport is `@app/alerting`'s): the body is the
 * alert, `X-Homeroom-Event` its type and `X-Homeroom-Delivery` its id (the same on every retry).
 */
@Injectable()
export class WebhookNotifier extends Notifier {
  readonly channel = 'webhook' as const;
  private readonly transport: WebhookAlertChannel;

  constructor(config: AlertsConfig) {
    super();
    this.transport = new WebhookAlertChannel(config.webhook, (url, init) => this.post(url, init));
  }

  get enabled(): boolean {
    return this.transport.enabled;
  }

  send(alert: SyncAlert): Promise<void> {
    return this.transport.send(syncAlertMessage(alert));
  }

  /** The HTTP call (a seam for unit tests). */
  protected post(url: string, init: RequestInit): Promise<Response> {
    return fetch(url, init);
  }
}
