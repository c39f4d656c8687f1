import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOneRosterServer, generateDistrict, type OneRosterDataset } from '../fakes/oneroster/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { createOneRosterConnection, eventually, sql, syncAndWait, userWithRole } from './sync-support.js';

const WEBHOOK_SECRET = 'alert-webhook-signing-secret-0123456789';
const SIS_SECRET = 'the-sis-client-secret-for-alerts';
const FROM = 'Homeroom <homeroom@district.test>';
const TO = ['it@district.test', 'sis-team@district.test'];

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  /** The signature verified against the raw body, with a fresh timestamp. */
  verified: boolean;
  status: number;
}

interface Email {
  from: string;
  to: string[];
  subject: string;
  text: string;
  raw: string;
}

interface AlertBody {
  id: string;
  type: string;
  summary: string;
  connection: { id: string; name: string };
  run: { id: string; state: string; errorCode: string | null; counts: Record<string, Record<string, number>> };
  hold: {
    reasons: { kind: string; entity: string; action?: string; count: number }[];
    preview: Record<string, Record<string, number>>;
    approve: { method: string; url: string };
    discard: { method: string; url: string };
  } | null;
  failures: { consecutive: number; threshold: number; runIds: string[] } | null;
}

/** Verifies `t=<unix>,v1=<hex>` the way a receiver would: HMAC-SHA256 over "<t>.<raw body>", recent timestamp. */
function verify(header: string | undefined, body: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const [, timestamp, given] = match as unknown as [string, string, string];
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = createHmac('sha256', WEBHOOK_SECRET).update(`${timestamp}.${body}`).digest('hex');
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/** Undoes header folding and quoted-printable so assertions read the text as written. */
function decodeEmail(raw: string): { subject: string; text: string } {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const headers = head.replace(/\r?\n(?=[ \t])/g, '');
  const subject = /^Subject: (.*)$/im.exec(headers)?.[1] ?? '';
  let text = rest.join('\n\n');
  if (/Content-Transfer-Encoding: quoted-printable/i.test(headers)) {
    text = text
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return { subject, text: text.replace(/\r\n/g, '\n') };
}

function personStrings(dataset: OneRosterDataset): string[] {
  return dataset.users.flatMap((user) => [user.sourcedId, user.givenName, user.familyName]).filter(Boolean);
}

describe('sync alerts (webhook and email)', () => {
  let app: TestApp;
  let token: string;
  let sis: FakeOneRosterServer;
  let dataset: OneRosterDataset;
  let receiver: Server;
  let smtp: SMTPServer;
  const deliveries: Delivery[] = [];
  const emails: Email[] = [];
  /** Statuses the receiver answers with next, in order; 200 once empty. */
  const scriptedStatuses: number[] = [];

  const alertsFor = (connectionId: string) =>
    deliveries
      .filter((delivery) => delivery.status === 200)
      .map((delivery) => JSON.parse(delivery.body) as AlertBody)
      .filter((alert) => alert.connection.id === connectionId);
  const emailsFor = (connectionId: string) => emails.filter((email) => email.text.includes(connectionId));

  beforeAll(async () => {
    receiver = createServer((incoming, response) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = scriptedStatuses.shift() ?? 200;
        const signature = incoming.headers['x-homeroom-signature'];
        deliveries.push({
          headers: incoming.headers,
          body,
          verified: verify(Array.isArray(signature) ? signature[0] : signature, body),
          status,
        });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));

    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const from = session.envelope.mailFrom;
          emails.push({
            from: from ? from.address : '',
            to: session.envelope.rcptTo.map((recipient) => recipient.address),
            ...decodeEmail(raw),
            raw,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
    const smtpPort = (smtp.server.address() as AddressInfo).port;

    dataset = generateDistrict({ seed: 'alerts', schools: 1, students: 12, teachers: 2, classes: 3 });
    sis = new FakeOneRosterServer({
      dataset,
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: SIS_SECRET },
    });
    await sis.start();

    app = await bootTestApp({
      env: {
        AUTH_RATE_LIMIT_PER_MINUTE: '1000',
        ALERT_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/homeroom`,
        ALERT_WEBHOOK_SECRET: WEBHOOK_SECRET,
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        ALERT_EMAIL_FROM: FROM,
        ALERT_EMAIL_TO: TO.join(','),
        ALERT_CONSECUTIVE_FAILURES: '3',
        ALERT_LINK_BASE_URL: 'https://homeroom.district.test',
      },
    });
    token = (await login(app.url)).accessToken;
  });

  afterAll(async () => {
    await app?.close();
    await sis?.stop();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  async function connection(name: string, fields: Record<string, unknown> = {}): Promise<string> {
    return createOneRosterConnection(app.url, token, {
      name,
      baseUrl: sis.baseUrlFor('1.2'),
      auth: { type: 'oauth2', tokenUrl: sis.tokenUrl, clientId: 'homeroom', clientSecret: SIS_SECRET },
      ...fields,
    });
  }

  /** A connection whose runs fail at once: the SIS refuses its secret. */
  async function failingConnection(name: string): Promise<string> {
    return connection(name, {
      auth: { type: 'oauth2', tokenUrl: sis.tokenUrl, clientId: 'homeroom', clientSecret: 'a-secret-the-sis-refuses' },
    });
  }

  /** Nothing more arrives for a moment (so "exactly one" means one). */
  const settleDown = () => new Promise((resolve) => setTimeout(resolve, 750));

  function expectNoSecretsOrStudents(text: string): void {
    expect(text).not.toContain(SIS_SECRET);
    expect(text).not.toContain('a-secret-the-sis-refuses');
    expect(text).not.toContain(WEBHOOK_SECRET);
    for (const value of personStrings(dataset)) expect(text).not.toContain(value);
  }

  it('a failed run sends one signed webhook and one email', async () => {
    const connectionId = await failingConnection('Failing district');
    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.state).toBe('failed');

    const [alert] = await eventually(
      () => (alertsFor(connectionId).length > 0 ? alertsFor(connectionId) : undefined),
      10_000,
      'the webhook',
    );
    await eventually(() => (emailsFor(connectionId).length > 0 ? true : undefined), 10_000, 'the email');
    await settleDown();
    expect(alertsFor(connectionId)).toHaveLength(1);
    expect(emailsFor(connectionId)).toHaveLength(1);

    const delivery = deliveries.find((candidate) => candidate.body.includes(connectionId))!;
    expect(delivery.verified).toBe(true);
    expect(delivery.headers['content-type']).toMatch(/^application\/json/);
    expect(delivery.headers['x-homeroom-event']).toBe('sis-sync.run-failed');
    expect(delivery.headers['x-homeroom-delivery']).toBe(alert?.id);
    expect(alert).toMatchObject({
      type: 'sis-sync.run-failed',
      connection: { id: connectionId, name: 'Failing district' },
      run: {
        id: run.id,
        state: 'failed',
        errorCode: 'SIS_SYNC.SOURCE_AUTH_FAILED',
        links: { run: { method: 'GET', url: `https://homeroom.district.test/api/v1/sis/runs/${run.id}` } },
      },
      hold: null,
      failures: null,
    });
    expectNoSecretsOrStudents(delivery.body);

    const [email] = emailsFor(connectionId);
    expect(email?.from).toBe('homeroom@district.test');
    expect(email?.to).toEqual(TO);
    expect(email?.subject).toBe('[Homeroom] Sync failed: Failing district (SIS_SYNC.SOURCE_AUTH_FAILED)');
    expect(email?.text).toContain(`Run: ${run.id} (full, manual, attempt 1), state failed`);
    expect(email?.text).toContain('Error: SIS_SYNC.SOURCE_AUTH_FAILED - The SIS refused the credentials');
    expectNoSecretsOrStudents(email.raw);

    // The stored alert records that both channels took it (a retry would skip them).
    await eventually(
      async () => {
        const [row] = await sql<{ delivered: Record<string, string> }>(
          app.databaseUrl,
          'SELECT delivered FROM sis_sync_alerts WHERE id = $1',
          [alert?.id],
        );
        return row?.delivered['webhook'] && row.delivered['email'] ? row : undefined;
      },
      5_000,
      'both deliveries recorded',
    );
  });

  it('a held run sends the hold reasons, the preview counts and the approve/discard routes', async () => {
    const connectionId = await connection('Held district', { thresholds: { '*': { create: { maxCount: 5 } } } });
    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.state).toBe('held');

    await eventually(() => (alertsFor(connectionId).length > 0 ? true : undefined), 10_000, 'the webhook');
    await eventually(() => (emailsFor(connectionId).length > 0 ? true : undefined), 10_000, 'the email');
    await settleDown();
    const alerts = alertsFor(connectionId);
    expect(alerts).toHaveLength(1);
    expect(emailsFor(connectionId)).toHaveLength(1);
    const [alert] = alerts;
    expect(alert?.type).toBe('sis-sync.run-held');
    expect(alert?.run).toMatchObject({ id: run.id, state: 'held' });
    expect(alert?.hold?.reasons).toEqual(
      run.holdReasons.map((reason) => expect.objectContaining({ kind: reason.kind, entity: reason.entity })),
    );
    expect(alert?.hold?.reasons).toContainEqual(
      expect.objectContaining({ kind: 'threshold', entity: 'people', action: 'create', count: expect.any(Number) }),
    );
    const people = run.preview?.['people'] as Record<string, unknown>;
    expect(alert?.hold?.preview['people']).toEqual({
      create: people['create'],
      update: people['update'],
      restore: people['restore'],
      deactivate: people['deactivate'],
      unchanged: people['unchanged'],
      activeBefore: people['activeBefore'],
    });
    expect(alert?.hold?.approve).toEqual({
      method: 'POST',
      url: `https://homeroom.district.test/api/v1/sis/runs/${run.id}/approve`,
    });
    expect(alert?.hold?.discard).toEqual({
      method: 'POST',
      url: `https://homeroom.district.test/api/v1/sis/runs/${run.id}/discard`,
    });
    const delivery = deliveries.find((candidate) => candidate.body.includes(run.id))!;
    expect(delivery.verified).toBe(true);
    expectNoSecretsOrStudents(delivery.body);

    const [email] = emailsFor(connectionId);
    expect(email?.subject).toBe('[Homeroom] Sync held for review: Held district');
    expect(email?.text).toContain('Held because:');
    expect(email?.text).toMatch(/ {2}- people: \d+ to create \(limit 5 records\)/);
    expect(email?.text).toContain(`Apply it: POST https://homeroom.district.test/api/v1/sis/runs/${run.id}/approve`);
    expect(email?.text).toContain(`Drop it:  POST https://homeroom.district.test/api/v1/sis/runs/${run.id}/discard`);
    expectNoSecretsOrStudents(email.raw);

    // Deciding on it raises nothing more.
    await request(app.url).post(`/api/v1/sis/runs/${run.id}/discard`).set(bearer(token)).expect(200);
    await settleDown();
    expect(alertsFor(connectionId)).toHaveLength(1);
  });

  it('retries a webhook the receiver refused, and delivers it', async () => {
    const connectionId = await failingConnection('Retried district');
    scriptedStatuses.push(500);
    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.state).toBe('failed');

    // The first try answers 500; the queue tries again after its 5 s backoff.
    await eventually(() => (alertsFor(connectionId).length > 0 ? true : undefined), 20_000, 'the retried webhook');
    const attempts = deliveries.filter((delivery) => delivery.body.includes(run.id));
    expect(attempts.map((delivery) => delivery.status)).toEqual([500, 200]);
    expect(attempts.every((delivery) => delivery.verified)).toBe(true);
    expect(new Set(attempts.map((delivery) => delivery.headers['x-homeroom-delivery'])).size).toBe(1);
    expect(attempts[0]?.body).toBe(attempts[1]?.body);
    // The email went out once, undisturbed by the webhook's retry.
    expect(emailsFor(connectionId)).toHaveLength(1);
  }, 40_000);

  it('alerts once when a connection reaches the consecutive-failure threshold', async () => {
    const connectionId = await failingConnection('Streaky district');
    const runIds: string[] = [];
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      const run = await syncAndWait(app.url, token, connectionId);
      expect(run.state).toBe('failed');
      runIds.push(run.id);
      await eventually(
        () =>
          alertsFor(connectionId).filter((alert) => alert.type === 'sis-sync.run-failed').length >= attempt
            ? true
            : undefined,
        10_000,
        `the alert of failure ${attempt}`,
      );
    }
    await settleDown();
    const streaks = alertsFor(connectionId).filter((alert) => alert.type === 'sis-sync.consecutive-failures');
    expect(streaks).toHaveLength(1);
    expect(streaks[0]).toMatchObject({
      run: { id: runIds[2] },
      failures: { consecutive: 3, threshold: 3, runIds: [runIds[2], runIds[1], runIds[0]] },
    });
    const streakEmails = emailsFor(connectionId).filter((email) => email.subject.includes('times in a row'));
    expect(streakEmails.map((email) => email.subject)).toEqual([
      '[Homeroom] Sync failed 3 times in a row: Streaky district',
    ]);
    // Four failed-run alerts, one per run.
    expect(alertsFor(connectionId).filter((alert) => alert.type === 'sis-sync.run-failed')).toHaveLength(4);
  }, 60_000);

  it('refuses the new routes to roles without SIS access', async () => {
    const connectionId = await connection('Guarded district');
    for (const role of ['teacher', 'compliance_officer', 'school_admin']) {
      const roleToken = await userWithRole(app.url, token, role);
      await request(app.url).post(`/api/v1/sis/connections/${connectionId}/test`).set(bearer(roleToken)).expect(403);
      await request(app.url).get(`/api/v1/sis/connections/${connectionId}/health`).set(bearer(roleToken)).expect(403);
    }
    const operator = await userWithRole(app.url, token, 'sis_operator');
    await request(app.url).get(`/api/v1/sis/connections/${connectionId}/health`).set(bearer(operator)).expect(200);
    const tested = await request(app.url).post(`/api/v1/sis/connections/${connectionId}/test`).set(bearer(operator));
    expect(tested.status).toBe(200);
    expect(tested.body).toMatchObject({ ok: true });
    await request(app.url).get(`/api/v1/sis/connections/${connectionId}/health`).expect(401);
  });
});
