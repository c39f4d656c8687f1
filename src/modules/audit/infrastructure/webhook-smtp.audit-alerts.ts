import type { AuditVerificationFailedAlert } from '@app/contracts';
import { SmtpAlertChannel, WebhookAlertChannel, type AlertChannel, type AlertMessage } from '@app/alerting';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { AlertsConfig } from '../../../config/index.js';
import { AuditAlerts, type AuditAlertChannel } from '../application/ports/audit-alerts.port.js';

/** Audit alerts through the same signed webhook and SMTP channels (and configuration) as sync alerts. */
@Injectable()
export class WebhookSmtpAuditAlerts extends AuditAlerts implements OnModuleDestroy {
  private readonly webhook: WebhookAlertChannel;
  private readonly email: SmtpAlertChannel;

  constructor(config: AlertsConfig) {
    super();
    this.webhook = new WebhookAlertChannel(config.webhook);
    this.email = new SmtpAlertChannel(config.email);
  }

  enabledChannels(): readonly AuditAlertChannel[] {
    return [this.webhook, this.email].filter((channel) => channel.enabled).map((channel) => channel.name);
  }

  send(channel: AuditAlertChannel, alert: AuditVerificationFailedAlert): Promise<void> {
    const target: AlertChannel = channel === 'webhook' ? this.webhook : this.email;
    return target.send(auditAlertMessage(alert));
  }

  onModuleDestroy(): void {
    this.email.close();
  }
}

export function auditAlertMessage(alert: AuditVerificationFailedAlert): AlertMessage {
  const { verification } = alert;
  const text = [
    alert.summary,
    '',
    `Entries checked: ${verification.fromSeq}..${verification.toSeq} (${verification.checkedEntries})`,
    `First entry that failed: ${verification.firstBadSeq ?? '-'}`,
    `Problem: ${verification.problem ?? '-'}`,
    `Verified at: ${verification.verifiedAt}`,
    '',
    'The entries may have been altered or removed. Check with `GET /api/v1/audit/verify` and the signed',
    'checkpoints; the next scheduled verification looks again from the same checkpoint.',
    '',
    `Alert ${alert.id}. Alerts carry ids, seqs and codes only; the details are in Homeroom.`,
  ];
  return {
    kind: alert.type,
    deliveryId: alert.id,
    subject: `[Homeroom] Audit chain verification FAILED${verification.firstBadSeq === null ? '' : ` at entry ${verification.firstBadSeq}`}`,
    text: `${text.join('\n')}\n`,
    payload: alert,
  };
}
