import { describe, expect, it } from 'vitest';
import type { AlertsConfig } from '../../../config/index.js';
import { runHeldAlert } from '../domain/sync-alert.js';
import type { SyncRun } from '../domain/sync-run.js';
import { verifyWebhookSignature, webhookSignature, WebhookNotifier } from './webhook.notifier.js';

const SECRET = 'webhook-signing-secret-0123456789';
const URL_WITH_TOKEN = 'https://hooks.district.test/services/T0KEN-in-the-path';

const alert = runHeldAlert({
  id: 'a0000000-0000-4000-8000-000000000001',
  at: new Date('2026-11-25T08:00:00Z'),
  connection: { id: 'c1', name: 'District SIS', provider: 'oneroster' },
  run: {
    id: 'r1',
    state: 'held',
    mode: 'full',
    trigger: 'manual',
    attempt: 1,
    errorCode: null,
    issueCount: 0,
    counts: {},
    holdReasons: [{ kind: 'id_remap', entity: 'people', count: 3 }],
    preview: null,
    createdAt: new Date('2026-11-25T07:59:00Z'),
    startedAt: null,
    finishedAt: null,
  } as unknown as SyncRun,
  linkBaseUrl: null,
}).alert;

class RecordingWebhookNotifier extends WebhookNotifier {
  readonly calls: { url: string; init: RequestInit }[] = [];
  constructor(
    config: Pick<AlertsConfig, 'webhook'>,
    private readonly answer: () => Promise<Response>,
  ) {
    super(config as AlertsConfig);
  }
  protected override post(url: string, init: RequestInit): Promise<Response> {
    this.calls.push({ url, init });
    return this.answer();
  }
}

describe('WebhookNotifier', () => {
  it('posts the alert as JSON, signed over the timestamp and the body', async () => {
    const notifier = new RecordingWebhookNotifier(
      { webhook: { url: URL_WITH_TOKEN, secret: SECRET } },
      async () => new Response(null, { status: 204 }),
    );
    await notifier.send(alert);
    const [call] = notifier.calls;
    const headers = call?.init.headers as Record<string, string>;
    const body = call?.init.body as string;
    expect(JSON.parse(body)).toEqual(alert);
    expect(headers['x-homeroom-event']).toBe('sis-sync.run-held');
    expect(headers['x-homeroom-delivery']).toBe(alert.id);
    expect(verifyWebhookSignature(headers['x-homeroom-signature'], body, SECRET, Math.floor(Date.now() / 1000))).toBe(
      true,
    );
    expect(verifyWebhookSignature(headers['x-homeroom-signature'], `${body} `, SECRET, Date.now() / 1000)).toBe(false);
    expect(
      verifyWebhookSignature(headers['x-homeroom-signature'], body, 'another-secret-0123456', Date.now() / 1000),
    ).toBe(false);
  });

  it('fails on anything but a 2xx, and on network errors, without naming the URL', async () => {
    const refused = new RecordingWebhookNotifier(
      { webhook: { url: URL_WITH_TOKEN, secret: SECRET } },
      async () => new Response('nope', { status: 500 }),
    );
    await expect(refused.send(alert)).rejects.toThrow('The alert webhook answered HTTP 500');
    const unreachable = new RecordingWebhookNotifier({ webhook: { url: URL_WITH_TOKEN, secret: SECRET } }, () =>
      Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })),
    );
    const error = await unreachable.send(alert).catch((caught: Error) => caught);
    expect((error as Error).message).toBe('The alert webhook could not be reached (ECONNREFUSED)');
    expect(JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack })).not.toContain('T0KEN');
  });

  it('is off without a configured URL', () => {
    expect(new WebhookNotifier({ webhook: null } as AlertsConfig).enabled).toBe(false);
  });

  it('rejects stale timestamps', () => {
    const body = '{}';
    const signed = webhookSignature(SECRET, 1_000, body);
    expect(verifyWebhookSignature(signed, body, SECRET, 1_200)).toBe(true);
    expect(verifyWebhookSignature(signed, body, SECRET, 1_000 + 301)).toBe(false);
  });
});
