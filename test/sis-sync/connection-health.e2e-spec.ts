import { CommandBus } from '@nestjs/cqrs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnsureCsvImportConnectionCommand } from '../../src/modules/sis-sync/index.js';
import { FakeOneRosterServer, generateDistrict } from '../fakes/oneroster/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { createOneRosterConnection, eventually, startRun, syncAndWait, waitForRun } from './sync-support.js';

const SECRET = 'fake-secret-for-the-health-suite';
const CHICAGO = 'America/Chicago';
const EXPECTED_PERMISSIONS = [
  'permission:orgs',
  'permission:academicSessions',
  'permission:courses',
  'permission:classes',
  'permission:users',
  'permission:demographics',
  'permission:enrollments',
];

interface Check {
  check: string;
  ok: boolean;
  detail: string;
  durationMs: number;
}

interface TestResult {
  ok: boolean;
  checks: Check[];
  durationMs: number;
}

interface Health {
  connectionId: string;
  enabled: boolean;
  lastSuccess: { runId: string; at: string } | null;
  consecutiveFailures: number;
  lastError: { code: string | null; message: string | null; runId: string; at: string } | null;
  nextScheduledRun: string | null;
  tokenExpiresAt: string | null;
  tokenObservedAt: string | null;
  activeRun: { runId: string; state: string; mode: string; dryRun: boolean; trigger: string } | null;
}

/** A calendar date `days` from today in Chicago. */
function chicagoDate(days: number): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: CHICAGO,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(Date.now() + days * 86_400_000));
}

/** 02:00 in Chicago on a date, as an ISO instant (CST is UTC-6, CDT UTC-5). */
function twoAmInChicago(date: string): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const hour = (instant: Date) =>
    new Intl.DateTimeFormat('en-US', { timeZone: CHICAGO, hour: '2-digit', hourCycle: 'h23' }).format(instant);
  const candidates = [7, 8].map((utcHour) => new Date(Date.UTC(year, month - 1, day, utcHour)));
  return candidates.find((candidate) => hour(candidate) === '02')!.toISOString();
}

describe('SIS connection test and health', () => {
  let app: TestApp;
  let token: string;
  let server: FakeOneRosterServer;
  let forbidding: FakeOneRosterServer;
  let blackHole: Server;
  const heldSockets = new Set<Socket>();

  const auth = (target: FakeOneRosterServer, clientSecret = SECRET) => ({
    type: 'oauth2',
    tokenUrl: target.tokenUrl,
    clientId: 'homeroom',
    clientSecret,
  });

  async function connect(name: string, target: FakeOneRosterServer, fields: Record<string, unknown> = {}) {
    return createOneRosterConnection(app.url, token, {
      name,
      baseUrl: target.baseUrlFor('1.2'),
      auth: auth(target),
      ...fields,
    });
  }

  async function testConnection(connectionId: string): Promise<{ status: number; body: TestResult; text: string }> {
    const response = await request(app.url).post(`/api/v1/sis/connections/${connectionId}/test`).set(bearer(token));
    return { status: response.status, body: response.body as TestResult, text: response.text };
  }

  async function health(connectionId: string): Promise<Health> {
    const response = await request(app.url).get(`/api/v1/sis/connections/${connectionId}/health`).set(bearer(token));
    expect(response.status, response.text).toBe(200);
    return response.body as Health;
  }

  beforeAll(async () => {
    app = await bootTestApp();
    token = (await login(app.url)).accessToken;
    const dataset = () => generateDistrict({ seed: 'health', schools: 1, students: 10, teachers: 2, classes: 2 });
    server = new FakeOneRosterServer({
      dataset: dataset(),
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: SECRET, expiresIn: 3600 },
    });
    forbidding = new FakeOneRosterServer({
      dataset: dataset(),
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: SECRET },
      forbidDemographics: true,
    });
    await server.start();
    await forbidding.start();
    // Accepts connections and never answers: the test must still answer within the request timeout.
    blackHole = createServer((socket) => {
      heldSockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => heldSockets.delete(socket));
    });
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of heldSockets) socket.destroy();
    await new Promise<void>((resolve) => (blackHole ? blackHole.close(() => resolve()) : resolve()));
    await server?.stop();
    await forbidding?.stop();
    await app?.close();
  });

  it('passes every check against a working SIS, and records the token expiry', async () => {
    const connectionId = await connect('Working SIS', server);
    const before = Date.now();
    const { status, body, text } = await testConnection(connectionId);
    expect(status, text).toBe(200);
    expect(body.ok).toBe(true);
    expect(body.checks.map((check) => check.check)).toEqual(['reachability', 'credentials', ...EXPECTED_PERMISSIONS]);
    for (const check of body.checks) {
      expect(check).toEqual({
        check: check.check,
        ok: true,
        detail: expect.any(String),
        durationMs: expect.any(Number),
      });
    }
    expect(text).not.toContain(SECRET);

    const view = await health(connectionId);
    expect(view.tokenExpiresAt).not.toBeNull();
    const expiresIn = new Date(view.tokenExpiresAt!).getTime() - before;
    expect(expiresIn).toBeGreaterThan(3_590_000);
    expect(expiresIn).toBeLessThan(3_610_000);
  });

  it('fails the credentials check with a wrong secret', async () => {
    const connectionId = await connect('Wrong secret', server, { auth: auth(server, 'not-the-right-secret') });
    const { status, body, text } = await testConnection(connectionId);
    expect(status, text).toBe(200);
    expect(body.ok).toBe(false);
    expect(body.checks[0]).toMatchObject({ check: 'reachability', ok: true });
    expect(body.checks[1]).toMatchObject({ check: 'credentials', ok: false });
    expect(body.checks[1]?.detail).toMatch(/401|refused|credentials/i);
    expect(text).not.toContain('not-the-right-secret');
  });

  it('fails only permission:demographics when the SIS withholds demographics', async () => {
    const connectionId = await connect('No demographics', forbidding);
    const { body } = await testConnection(connectionId);
    expect(body.ok).toBe(false);
    const failed = body.checks.filter((check) => !check.ok);
    expect(failed.map((check) => check.check)).toEqual(['permission:demographics']);
    expect(failed[0]?.detail).toMatch(/403|forbidden|refused|denied/i);
    expect(body.checks.filter((check) => check.ok).map((check) => check.check)).toEqual([
      'reachability',
      'credentials',
      ...EXPECTED_PERMISSIONS.filter((check) => check !== 'permission:demographics'),
    ]);
  });

  it('fails reachability at once when nothing listens, and within the timeout when nothing answers', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const refused = await createOneRosterConnection(app.url, token, {
      name: 'Nothing listens',
      baseUrl: `http://127.0.0.1:${closedPort}/ims/oneroster/rostering/v1p2`,
      auth: { type: 'oauth2', tokenUrl: `http://127.0.0.1:${closedPort}/token`, clientId: 'x', clientSecret: SECRET },
      requestTimeoutMs: 5_000,
    });
    const started = Date.now();
    const first = await testConnection(refused);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(first.body).toMatchObject({ ok: false, checks: [{ check: 'reachability', ok: false }] });
    expect(first.body.checks).toHaveLength(1);
    // The server and the cause, never the secret or a query string.
    expect(first.body.checks[0]?.detail).toBe(
      `POST http://127.0.0.1:${closedPort}/token failed after 1 attempt: connection refused (ECONNREFUSED)`,
    );

    const port = (blackHole.address() as AddressInfo).port;
    const silent = await createOneRosterConnection(app.url, token, {
      name: 'Nothing answers',
      baseUrl: `http://127.0.0.1:${port}/ims/oneroster/rostering/v1p2`,
      auth: { type: 'oauth2', tokenUrl: `http://127.0.0.1:${port}/token`, clientId: 'x', clientSecret: SECRET },
      requestTimeoutMs: 1_500,
    });
    const startedSilent = Date.now();
    const second = await testConnection(silent);
    const elapsed = Date.now() - startedSilent;
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    expect(elapsed).toBeLessThan(1_500 + 400);
    expect(second.body).toMatchObject({
      ok: false,
      checks: [{ check: 'reachability', ok: false, detail: expect.stringMatching(/^Timed out/) }],
    });
  });

  it('answers 404 for an unknown connection and says what it can check of the CSV-upload connection', async () => {
    const missing = await testConnection('00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'SIS_SYNC.CONNECTION_NOT_FOUND' });
    const missingHealth = await request(app.url)
      .get('/api/v1/sis/connections/00000000-0000-4000-8000-000000000000/health')
      .set(bearer(token));
    expect(missingHealth.status).toBe(404);

    const csv = await app.app.get(CommandBus).execute(new EnsureCsvImportConnectionCommand());
    const verdict = await testConnection(csv);
    expect(verdict.status).toBe(200);
    expect(verdict.body).toMatchObject({ ok: true, checks: [{ check: 'upload', ok: true }] });
    expect(verdict.body.checks[0].detail).toContain('No SIS to reach');
    const csvHealth = await health(csv);
    expect(csvHealth).toMatchObject({ lastSuccess: null, nextScheduledRun: null, tokenExpiresAt: null });
  });

  it('computes the next scheduled run in the schedule time zone, skipping blackout windows', async () => {
    const connectionId = await connect('Scheduled nightly', server, {
      schedule: { cron: '0 2 * * *', timeZone: CHICAGO },
      blackoutWindows: [{ from: chicagoDate(-1), to: chicagoDate(2), reason: 'winter break' }],
    });
    const view = await health(connectionId);
    expect(view).toMatchObject({
      connectionId,
      enabled: true,
      lastSuccess: null,
      consecutiveFailures: 0,
      lastError: null,
      tokenExpiresAt: null,
      activeRun: null,
    });
    expect(view.nextScheduledRun).toBe(twoAmInChicago(chicagoDate(3)));

    const unscheduled = await connect('Unscheduled', server);
    expect((await health(unscheduled)).nextScheduledRun).toBeNull();
    await request(app.url)
      .patch(`/api/v1/sis/connections/${connectionId}`)
      .set(bearer(token))
      .send({ enabled: false })
      .expect(200);
    expect(await health(connectionId)).toMatchObject({ enabled: false, nextScheduledRun: null });
  });

  it('tracks the last success, the failures since, the last error and the active run', async () => {
    const flaky = new FakeOneRosterServer({
      dataset: generateDistrict({ seed: 'flaky', schools: 1, students: 6, teachers: 1, classes: 1 }),
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: SECRET, expiresIn: 1800 },
    });
    await flaky.start();
    try {
      const connectionId = await connect('Flaky SIS', flaky);
      const success = await syncAndWait(app.url, token, connectionId);
      expect(success.state, JSON.stringify(success)).toBe('succeeded');
      const afterSuccess = await health(connectionId);
      expect(afterSuccess).toMatchObject({
        lastSuccess: { runId: success.id },
        consecutiveFailures: 0,
        lastError: null,
        activeRun: null,
      });
      // The run's own token (expires_in 1800) was recorded.
      const expiresIn =
        new Date(afterSuccess.tokenExpiresAt!).getTime() - new Date(afterSuccess.tokenObservedAt!).getTime();
      expect(Math.abs(expiresIn - 1_800_000)).toBeLessThan(10_000);

      // While a run is going, it is the active run.
      const slow = flaky.injectFault({ kind: 'slow', delayMs: 1_200, path: '/orgs', times: 1 });
      const running = await startRun(app.url, token, connectionId);
      expect((await health(connectionId)).activeRun).toMatchObject({ runId: running, mode: 'full', dryRun: false });
      await waitForRun(app.url, token, running);
      slow.remove();

      // The SIS starts refusing the credentials: two failed runs, and a dry run that does not count.
      flaky.setAuth({ kind: 'oauth2', clientId: 'homeroom', clientSecret: 'rotated-on-the-sis-side' });
      const first = await syncAndWait(app.url, token, connectionId);
      const second = await syncAndWait(app.url, token, connectionId);
      const dry = await syncAndWait(app.url, token, connectionId, { dryRun: true });
      expect([first.state, second.state, dry.state]).toEqual(['failed', 'failed', 'failed']);
      const afterFailures = await health(connectionId);
      expect(afterFailures).toMatchObject({
        lastSuccess: { runId: running },
        consecutiveFailures: 2,
        lastError: { code: 'SIS_SYNC.SOURCE_AUTH_FAILED', runId: second.id, message: expect.any(String) },
        activeRun: null,
      });
      expect(new Date(afterFailures.lastError!.at).getTime()).toBeGreaterThan(
        new Date(afterFailures.lastSuccess!.at).getTime(),
      );
      expect(JSON.stringify(afterFailures)).not.toContain(SECRET);

      // A success ends the streak.
      flaky.setAuth({ kind: 'oauth2', clientId: 'homeroom', clientSecret: SECRET });
      const recovered = await syncAndWait(app.url, token, connectionId);
      expect(recovered.state).toBe('succeeded');
      await eventually(
        async () => {
          const view = await health(connectionId);
          return view.consecutiveFailures === 0 && view.lastSuccess?.runId === recovered.id ? view : undefined;
        },
        5_000,
        'the streak to end',
      );
      expect((await health(connectionId)).lastError).toMatchObject({ runId: second.id });
    } finally {
      await flaky.stop();
    }
  });
});
