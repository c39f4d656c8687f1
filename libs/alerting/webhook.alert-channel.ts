import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AlertChannel, AlertMessage } from './alert-channel.js';

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

export interface WebhookTarget {
  /** May itself carry a token: never logged nor put in errors. */
  readonly url: string;
  readonly secret: string;
}

export type HttpPost = (url: string, init: RequestInit) => Promise<Response>;

/**
 * An alert as a signed JSON POST. Headers: `X-Homeroom-Event` (the kind), `X-Homeroom-Delivery` (the delivery
 * id, the same on every retry: receivers dedupe on it) and `X-Homeroom-Signature`. Anything but a 2xx within
 * 10 s is a failure. Redirects are not followed. Errors name the status or network code, never the URL.
 */
export class WebhookAlertChannel implements AlertChannel {
  readonly name = 'webhook' as const;

  constructor(
    private readonly target: WebhookTarget | null,
    private readonly post: HttpPost = (url, init) => fetch(url, init),
  ) {}

  get enabled(): boolean {
    return this.target !== null;
  }

  async send(message: AlertMessage): Promise<void> {
    const target = this.target;
    if (!target) throw new Error('Webhook alerts are not configured');
    const body = JSON.stringify(message.payload);
    const timestamp = Math.floor(Date.now() / 1000);
    let response: Response;
    try {
      response = await this.post(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Homeroom-Alerts/1',
          'x-homeroom-event': message.kind,
          'x-homeroom-delivery': message.deliveryId,
          [SIGNATURE_HEADER.toLowerCase()]: webhookSignature(target.secret, timestamp, body),
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
}

function networkCode(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${TIMEOUT_MS} ms`;
  }
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : 'network error';
}
