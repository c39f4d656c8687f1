import { Injectable } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AlertsConfig } from '../../../config/index.js';
import { Notifier } from '../application/ports/notifier.port.js';
import type { SyncAlert } from '../domain/sync-alert.js';

const TIMEOUT_MS = 10_000;
export const SIGNATURE_HEADER = 'X-Homeroom-Signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the timestamp is signed, so a replay is detectable. */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  const digest = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${digest}`;
}

/** What a receiver does: recompute the HMAC over the raw body and refuse stale timestamps. */
export function verifyWebhookSignature(
  header: string | undefined,
  body: string,
  secret: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const fields = new Map(
    (header ?? '').split(',').map((part) => {
      const [key, ...value] = part.trim().split('=');
      return [key, value.join('=')] as const;
    }),
  );
  const timestamp = Number(fields.get('t'));
  const given = fields.get('v1') ?? '';
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = webhookSignature(secret, timestamp, body).split('v1=')[1] ?? '';
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/**
 * Alerts as a signed JSON POST to `ALERT_WEBHOOK_URL`. Headers: `X-Homeroom-Event` (the alert type),
 * `X-Homeroom-Delivery` (the alert id, the same on every retry: receivers dedupe on it) and
 * `X-Homeroom-Signature`. Anything but a 2xx within 10 s is a failure the queue retries. Redirects are not
 * followed. Errors name the status or network code, never the URL (which may carry a token).
 */
@Injectable()
export class WebhookNotifier extends Notifier {
  readonly channel = 'webhook' as const;

  constructor(private readonly config: AlertsConfig) {
    super();
  }

  get enabled(): boolean {
    return this.config.webhook !== null;
  }

  async send(alert: SyncAlert): Promise<void> {
    const webhook = this.config.webhook;
    if (!webhook) throw new Error('Webhook alerts are not configured');
    const body = JSON.stringify(alert);
    const timestamp = Math.floor(Date.now() / 1000);
    let response: Response;
    try {
      response = await this.post(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Homeroom-Alerts/1',
          'x-homeroom-event': alert.type,
          'x-homeroom-delivery': alert.id,
          [SIGNATURE_HEADER.toLowerCase()]: webhookSignature(webhook.secret, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      // eslint-disable-next-line preserve-caught-error -- the cause can quote the URL or its credentials
      throw new Error(`The alert webhook could not be reached (${networkCode(error)})`);
    }
    await response.body?.cancel().catch(() => undefined);
    if (response.status < 200 || response.status > 299) {
      throw new Error(`The alert webhook answered HTTP ${response.status}`);
    }
  }

  /** The HTTP call (a seam for unit tests). */
  protected post(url: string, init: RequestInit): Promise<Response> {
    return fetch(url, init);
  }
}

function networkCode(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${TIMEOUT_MS} ms`;
  }
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : 'network error';
}
