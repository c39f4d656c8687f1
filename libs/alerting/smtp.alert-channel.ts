import { createTransport, type Transporter } from 'nodemailer';
import type { AlertChannel, AlertMessage } from './alert-channel.js';

export interface EmailTarget {
  /** `smtp://…` or `smtps://…`; may carry a password: never logged nor put in errors. */
  readonly smtpUrl: string;
  readonly from: string;
  readonly to: readonly string[];
}

/**
 * An alert as a plain-text email. The transport is opened on first use; `close()` it with the application. A
 * refused or failed send throws (without the URL or its credentials).
 */
export class SmtpAlertChannel implements AlertChannel {
  readonly name = 'email' as const;
  private transport: Transporter | undefined;

  constructor(private readonly target: EmailTarget | null) {}

  get enabled(): boolean {
    return this.target !== null;
  }

  async send(message: AlertMessage): Promise<void> {
    const target = this.target;
    if (!target) throw new Error('Email alerts are not configured');
    this.transport ??= createTransport({
      url: target.smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    try {
      await this.transport.sendMail({
        from: target.from,
        to: [...target.to],
        subject: message.subject.replace(/[\r\n]+/g, ' '),
        text: message.text,
        headers: { 'X-Homeroom-Alert': message.kind, 'X-Homeroom-Alert-Id': message.deliveryId },
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

  close(): void {
    this.transport?.close();
    this.transport = undefined;
  }
}
