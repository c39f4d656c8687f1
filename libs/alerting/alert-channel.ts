/**
 * One alert, ready to send: the channels know nothing of what it is about. `deliveryId` is the same on every
 * retry of one alert, so receivers can drop duplicates.
 */
export interface AlertMessage {
  /** The alert type, e.g. `sis-sync.run-failed` (webhook `X-Homeroom-Event`, email `X-Homeroom-Alert`). */
  readonly kind: string;
  readonly deliveryId: string;
  /** Email subject (single line). */
  readonly subject: string;
  /** Plain-text email body. */
  readonly text: string;
  /** The webhook's JSON body. */
  readonly payload: unknown;
}

export type AlertChannelName = 'webhook' | 'email';

/**
 * A way of telling people (`WebhookAlertChannel`, `SmtpAlertChannel`). Each is off unless configured. `send`
 * throws on any failure, without the channel's URL or credentials, so a queued job can retry it.
 */
export interface AlertChannel {
  readonly name: AlertChannelName;
  readonly enabled: boolean;
  send(message: AlertMessage): Promise<void>;
}
