import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { AlertsConfig } from '../../../config/index.js';
import { Notifier } from '../application/ports/notifier.port.js';
import type { AlertLink, SyncAlert } from '../domain/sync-alert.js';

/**
 * Alerts as plain-text email through `SMTP_URL`, from `ALERT_EMAIL_FROM` to `ALERT_EMAIL_TO`. The transport is
 * opened on first use and closed with the application. A refused or failed send throws (without the URL or
 * its credentials) and the queue retries it.
 */
@Injectable()
export class SmtpNotifier extends Notifier implements OnModuleDestroy {
  readonly channel = 'email' as const;
  private transport: Transporter | undefined;

  constructor(private readonly config: AlertsConfig) {
    super();
  }

  get enabled(): boolean {
    return this.config.email !== null;
  }

  async send(alert: SyncAlert): Promise<void> {
    const email = this.config.email;
    if (!email) throw new Error('Email alerts are not configured');
    this.transport ??= createTransport({
      url: email.smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    const message = renderAlertEmail(alert);
    try {
      await this.transport.sendMail({
        from: email.from,
        to: [...email.to],
        subject: message.subject,
        text: message.text,
        headers: { 'X-Homeroom-Alert': alert.type, 'X-Homeroom-Alert-Id': alert.id },
      });
    } catch (error) {
      const { code, responseCode } = error as { code?: unknown; responseCode?: unknown };
      const why = [
        typeof code === 'string' ? code : null,
        typeof responseCode === 'number' ? `SMTP ${responseCode}` : null,
      ]
        .filter(Boolean)
        .join(', ');
      // eslint-disable-next-line preserve-caught-error -- the cause can quote the URL or its credentials
      throw new Error(`The SMTP server did not take the alert email${why ? ` (${why})` : ''}`);
    }
  }

  onModuleDestroy(): void {
    this.transport?.close();
    this.transport = undefined;
  }
}

/** Subject and body of an alert email: the alert's ids, codes and counts, and the links to act on it. */
export function renderAlertEmail(alert: SyncAlert): { subject: string; text: string } {
  const name = alert.connection.name;
  const run = alert.run;
  const subject =
    alert.type === 'sis-sync.run-held'
      ? `[Homeroom] Sync held for review: ${name}`
      : alert.type === 'sis-sync.consecutive-failures'
        ? `[Homeroom] Sync failed ${alert.failures?.consecutive ?? ''} times in a row: ${name}`
        : `[Homeroom] Sync failed: ${name} (${run.errorCode ?? 'unknown error'})`;
  const lines = [
    alert.summary,
    '',
    `Connection: ${name} (${alert.connection.provider}, id ${alert.connection.id})`,
    `Run: ${run.id} (${run.mode}, ${run.trigger}, attempt ${run.attempt}), state ${run.state}`,
    `Started: ${run.startedAt ?? '-'}   Finished: ${run.finishedAt ?? '-'}`,
  ];
  if (run.errorCode) lines.push(`Error: ${run.errorCode}${run.errorDescription ? ` - ${run.errorDescription}` : ''}`);
  lines.push(`Issues recorded: ${run.issueCount}`);
  if (alert.hold) {
    lines.push('', 'Held because:');
    for (const reason of alert.hold.reasons) {
      lines.push(
        reason.kind === 'threshold'
          ? `  - ${reason.entity}: ${reason.count} to ${reason.action} (limit ${reason.limit})`
          : `  - ${reason.entity}: ${reason.count} records change SIS id (id remap)`,
      );
    }
    lines.push('', 'Preview (create / update / restore / deactivate / unchanged, active before):');
    for (const [entity, entry] of Object.entries(alert.hold.preview)) {
      if (!entry) continue;
      lines.push(
        `  ${entity}: ${entry.create} / ${entry.update} / ${entry.restore} / ${entry.deactivate} / ${entry.unchanged}, ${entry.activeBefore}`,
      );
    }
    lines.push('', `Apply it: ${link(alert.hold.approve)}`, `Drop it:  ${link(alert.hold.discard)}`);
  }
  if (alert.failures) {
    lines.push(
      '',
      `Failed runs in a row: ${alert.failures.consecutive} (alert threshold ${alert.failures.threshold})`,
      `Runs, newest first: ${alert.failures.runIds.join(', ')}`,
    );
  }
  lines.push(
    '',
    `Run: ${link(run.links.run)}`,
    `Issues: ${link(run.links.issues)}`,
    '',
    `Alert ${alert.id} at ${alert.occurredAt}. Alerts carry ids, codes and counts only; the details are in Homeroom.`,
  );
  return { subject: subject.replace(/[\r\n]+/g, ' '), text: `${lines.join('\n')}\n` };
}

function link(target: AlertLink): string {
  return `${target.method} ${target.url}`;
}
