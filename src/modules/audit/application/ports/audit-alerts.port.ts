import type { AuditVerificationFailedAlert } from '@app/contracts';

export type AuditAlertChannel = 'webhook' | 'email';

/**
 * Tells people about an audit alert on the configured channels (ALERT_WEBHOOK_URL, SMTP_URL). `send` throws on
 * any failure, without the channel's URL or credentials, so the delivery job retries it.
 */
export abstract class AuditAlerts {
  /** The channels that are configured; an alert is queued once for each. */
  abstract enabledChannels(): readonly AuditAlertChannel[];
  abstract send(channel: AuditAlertChannel, alert: AuditVerificationFailedAlert): Promise<void>;
}
