import { JobQueue } from '@app/queue';
import { EventBus } from '@nestjs/cqrs';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, AuditVerificationFailedEvent, type AuditEntryDraft } from '../../src/modules/audit/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';

interface VerificationRow {
  id: string;
  verified_at: Date;
  ok: boolean;
  from_seq: string;
  to_seq: string;
  first_bad_seq: string | null;
  problem: string | null;
}

const WEBHOOK_SECRET = 'audit-alert-webhook-secret-0123456789';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  /** The signature checked as a receiver would: HMAC-SHA256 over "<t>.<raw body>", recent timestamp. */
  verified: boolean;
}

function verifySignature(header: string | undefined, body: string): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const [, timestamp, given] = match as unknown as [string, string, string];
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = createHmac('sha256', WEBHOOK_SECRET).update(`${timestamp}.${body}`).digest('hex');
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

function valueOf(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * The scheduled `audit.verify-chain` job: it verifies from the last verified checkpoint on, records each run
 * (which every process reports on /metrics) and alerts on a chain that does not verify.
 */
describe('scheduled verification of the audit chain', () => {
  let app: TestApp;
  let db: pg.Client;
  let token: string;
  const failures: AuditVerificationFailedEvent[] = [];
  let receiver: Server;
  const deliveries: Delivery[] = [];
  /** The size of the checkpoint the verifications anchor on. */
  let firstCheckpoint = 0;

  async function verifications(): Promise<VerificationRow[]> {
    return (await db.query<VerificationRow>('SELECT * FROM audit_verifications ORDER BY id')).rows;
  }

  /** Runs the job through the queue, as the schedule does, and resolves to the verification it recorded. */
  async function runJob(): Promise<VerificationRow> {
    const before = (await verifications()).length;
    await app.app.get(JobQueue).enqueue('audit.verify-chain', {});
    const deadline = Date.now() + 30_000;
    for (;;) {
      const rows = await verifications();
      if (rows.length > before) return rows.at(-1)!;
      if (Date.now() > deadline) throw new Error('the verification job recorded nothing');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function signCheckpoint(): Promise<number> {
    const signed = await request(app.url).post('/api/v1/audit/checkpoints').set(bearer(token)).expect(201);
    return Number((signed.body as { size: number }).size);
  }

  async function scrape(): Promise<string> {
    return (await request(app.metricsUrl).get('/metrics').expect(200)).text;
  }

  async function deliveryCount(count: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (deliveries.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} alert webhooks, got ${deliveries.length}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function tip(): Promise<number> {
    return Number((await db.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM audit_events')).rows[0].seq);
  }

  /** Appends entries to the chain, as audited work does, and resolves to the new tip. */
  async function appendEntries(count: number): Promise<number> {
    const drafts: AuditEntryDraft[] = Array.from({ length: count }, (_, index) => ({
      action: 'student.read',
      resource: { type: 'student', id: null },
      actor: { type: 'system', id: null, roles: [], schoolIds: [] },
      studentIds: [randomUUID()],
      dataCategories: ['directory'],
      outcome: 'allowed',
      origin: { channel: 'job', route: `verification-test-${index}` },
      occurredAt: new Date(),
    }));
    await app.app.get(AuditLog).append(drafts);
    return tip();
  }

  beforeAll(async () => {
    receiver = createServer((incoming, response) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const signature = incoming.headers['x-homeroom-signature'];
        deliveries.push({
          headers: incoming.headers,
          body,
          verified: verifySignature(Array.isArray(signature) ? signature[0] : signature, body),
        });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    app = await bootTestApp({
      env: {
        METRICS_STATUS_CACHE_SECONDS: '0',
        AUTH_RATE_LIMIT_PER_MINUTE: '1000',
        ALERT_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/homeroom`,
        ALERT_WEBHOOK_SECRET: WEBHOOK_SECRET,
      },
    });
    db = new pg.Client({ connectionString: app.databaseUrl });
    await db.connect();
    token = (await login(app.url)).accessToken;
    app.app.get(EventBus).subscribe((event) => {
      if (event instanceof AuditVerificationFailedEvent) failures.push(event);
    });
  });

  afterAll(async () => {
    await db?.end();
    await app?.close();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  it('records a good chain, then verifies only from the last verified checkpoint on', async () => {
    expect(valueOf(await scrape(), 'homeroom_audit_last_verification_timestamp_seconds')).toBeUndefined();
    await appendEntries(5);
    firstCheckpoint = await signCheckpoint();
    expect(firstCheckpoint).toBeGreaterThanOrEqual(5);

    const first = await runJob();
    expect(first).toMatchObject({ ok: true, from_seq: '1', first_bad_seq: null, problem: null });
    expect(Number(first.to_seq)).toBeGreaterThanOrEqual(firstCheckpoint);
    const metrics = await scrape();
    expect(valueOf(metrics, 'homeroom_audit_last_verification_timestamp_seconds')).toBe(
      first.verified_at.getTime() / 1000,
    );
    expect(valueOf(metrics, 'homeroom_audit_last_successful_verification_timestamp_seconds')).toBe(
      first.verified_at.getTime() / 1000,
    );
    expect(valueOf(metrics, 'homeroom_audit_last_verification_success')).toBe(1);

    await appendEntries(2);
    const second = await runJob();
    expect(second).toMatchObject({ ok: true, from_seq: String(firstCheckpoint + 1) });
    expect(Number(second.to_seq)).toBe(await tip());
    expect(failures).toEqual([]);
    expect(deliveries).toEqual([]);
  });

  it('records a tampered chain as failed, tells the compliance room, /metrics and the alert webhook, and keeps failing', async () => {
    const lastGood = (await verifications()).at(-1)!;
    const forged = await appendEntries(1);
    await db.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    try {
      await db.query(`UPDATE audit_events SET hash = sha256('forged'::bytea) WHERE seq = $1`, [forged]);
    } finally {
      await db.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    }

    const failed = await runJob();
    expect(failed).toMatchObject({ ok: false, first_bad_seq: String(forged) });
    expect(failed.problem).toMatch(/^AUDIT_CHAIN\./);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ firstBadSeq: String(forged), problem: failed.problem });
    const metrics = await scrape();
    expect(valueOf(metrics, 'homeroom_audit_last_verification_success')).toBe(0);
    expect(valueOf(metrics, 'homeroom_audit_last_verification_timestamp_seconds')).toBe(
      failed.verified_at.getTime() / 1000,
    );
    expect(valueOf(metrics, 'homeroom_audit_last_successful_verification_timestamp_seconds')).toBe(
      lastGood.verified_at.getTime() / 1000,
    );
    expect(valueOf(metrics, 'audit_verification_failures_total')).toBe(1);

    // One signed POST to ALERT_WEBHOOK_URL, with ids, seqs and the problem code only.
    await deliveryCount(1);
    const [delivery] = deliveries;
    expect(delivery.verified).toBe(true);
    expect(delivery.headers['x-homeroom-event']).toBe('audit.verification-failed');
    const alert = JSON.parse(delivery.body) as Record<string, unknown>;
    expect(delivery.headers['x-homeroom-delivery']).toBe(alert['id']);
    expect(alert).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'audit.verification-failed',
      occurredAt: failed.verified_at.toISOString(),
      summary: `The audit chain failed verification at entry ${forged} (${failed.problem})`,
      verification: {
        verifiedAt: failed.verified_at.toISOString(),
        fromSeq: Number(failed.from_seq),
        toSeq: Number(failed.to_seq),
        checkedEntries: expect.any(Number),
        firstBadSeq: forged,
        problem: failed.problem,
      },
    });

    // The next run starts from the same anchor, so it finds the same problem instead of skipping past it.
    const again = await runJob();
    expect(again).toMatchObject({ ok: false, first_bad_seq: String(forged), from_seq: failed.from_seq });
    expect(failures).toHaveLength(2);
    // Each failed run alerts once more, under its own delivery id.
    await deliveryCount(2);
    expect(deliveries[1].verified).toBe(true);
    expect(deliveries[1].headers['x-homeroom-delivery']).not.toBe(deliveries[0].headers['x-homeroom-delivery']);
  }, 120_000);

  it('checks the stored entry at the anchor: rewriting the last verified checkpoint head sends it back to seq 1', async () => {
    await db.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    try {
      await db.query(`UPDATE audit_events SET hash = sha256('rewritten'::bytea) WHERE seq = $1`, [firstCheckpoint]);
    } finally {
      await db.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    }
    const result = await runJob();
    expect(result).toMatchObject({ ok: false, from_seq: '1', first_bad_seq: String(firstCheckpoint) });
    await deliveryCount(3);
    expect(deliveries).toHaveLength(3);
  }, 120_000);
});
