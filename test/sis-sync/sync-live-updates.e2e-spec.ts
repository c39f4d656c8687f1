import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeOneRosterServer, generateDistrict } from '../fakes/oneroster/index.js';
import { login } from '../support/auth.js';
import { connectSocket } from '../support/sockets.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { createOneRosterConnection, eventually, getRun, startRun, userWithRole, waitForRun } from './sync-support.js';

const DISTRICT = { schools: 2, students: 25, teachers: 4, classes: 5 };

interface RunState {
  runId: string;
  connectionId: string;
  state: string;
  dryRun: boolean;
  issueCount: number;
  counts: Record<string, Record<string, number>>;
  errorCode: string | null;
}

interface RunProgress {
  runId: string;
  connectionId: string;
  phase: string;
  entity: string;
  processed: number;
}

/** Everything a socket hears, in order. */
function record(socket: Socket): { states: RunState[]; progress: RunProgress[] } {
  const heard = { states: [] as RunState[], progress: [] as RunProgress[] };
  socket.on('sis-sync.run-state', (payload: RunState) => heard.states.push(payload));
  socket.on('sis-sync.run-progress', (payload: RunProgress) => heard.progress.push(payload));
  return heard;
}

/** `name{label="value",…} number` lines of a Prometheus exposition; the value of the matching series (0 if absent). */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line.trim());
    if (!match || match[1] !== name) continue;
    const series = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => series[key] === value)) total += Number(match[3]);
  }
  return total;
}

describe('live sync updates and metrics', () => {
  let app: TestApp;
  let adminToken: string;
  let operatorToken: string;
  let teacherToken: string;
  const servers: FakeOneRosterServer[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    app = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000', METRICS_STATUS_CACHE_SECONDS: '0' } });
    adminToken = (await login(app.url)).accessToken;
    operatorToken = await userWithRole(app.url, adminToken, 'sis_operator');
    teacherToken = await userWithRole(app.url, adminToken, 'teacher');
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await app?.close();
  });

  async function socketFor(token: string): Promise<Socket> {
    const socket = await connectSocket(app.url, { token });
    sockets.push(socket);
    return socket;
  }

  async function district(seed: string): Promise<{ server: FakeOneRosterServer; connectionId: string }> {
    const server = new FakeOneRosterServer({
      dataset: generateDistrict({ seed, ...DISTRICT }),
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: 'fake-secret' },
    });
    await server.start();
    servers.push(server);
    const connectionId = await createOneRosterConnection(app.url, adminToken, {
      name: `live ${seed}`,
      baseUrl: server.baseUrlFor('1.2'),
      auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'fake-secret' },
      pageSize: 10,
      concurrency: 1,
    });
    return { server, connectionId };
  }

  it('an SIS operator watching sis-ops and one run room hears its states and progress, and nothing of other runs', async () => {
    const watched = await district('live-watched');
    const other = await district('live-other');
    watched.server.injectFault({ kind: 'slow', delayMs: 120 });
    other.server.injectFault({ kind: 'slow', delayMs: 120 });

    const opsSocket = await socketFor(operatorToken);
    expect(await opsSocket.emitWithAck('room.join', { room: 'sis-ops' })).toEqual({ ok: true, room: 'sis-ops' });
    const ops = record(opsSocket);

    const runId = await startRun(app.url, operatorToken, watched.connectionId);
    const runSocket = await socketFor(operatorToken);
    const room = `sync-run:${runId}`;
    expect(await runSocket.emitWithAck('room.join', { room })).toEqual({ ok: true, room });
    const one = record(runSocket);
    const otherRunId = await startRun(app.url, operatorToken, other.connectionId);

    const run = await waitForRun(app.url, operatorToken, runId, 30_000);
    const otherRun = await waitForRun(app.url, operatorToken, otherRunId, 30_000);
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    expect(otherRun.state).toBe('succeeded');

    // sis-ops: the whole life of both runs, in order.
    await eventually(
      () => (ops.states.filter((s) => s.runId === runId && s.state === 'succeeded').length ? true : undefined),
      5_000,
      'the final state on sis-ops',
    );
    const watchedStates = ops.states.filter((state) => state.runId === runId).map((state) => state.state);
    expect(watchedStates[0]).toBe('queued');
    expect(watchedStates).toContain('running');
    expect(watchedStates.at(-1)).toBe('succeeded');
    expect(watchedStates.indexOf('running')).toBeLessThan(watchedStates.lastIndexOf('succeeded'));
    expect(ops.states.some((state) => state.runId === otherRunId && state.state === 'succeeded')).toBe(true);
    expect(ops.progress.some((progress) => progress.runId === runId)).toBe(true);
    const final = ops.states.filter((state) => state.runId === runId).at(-1)!;
    expect(final).toMatchObject({ connectionId: watched.connectionId, dryRun: false, errorCode: null });
    expect(final.counts['people']?.['created']).toBe(watched.server.dataset.users.length);

    // The run's own room: its progress and its settlement, and only that run.
    await eventually(
      () => (one.states.some((s) => s.state === 'succeeded') ? true : undefined),
      5_000,
      'the final state in the run room',
    );
    expect(one.states.every((state) => state.runId === runId)).toBe(true);
    expect(one.progress.length).toBeGreaterThan(0);
    expect(one.progress.every((progress) => progress.runId === runId)).toBe(true);
    expect(one.states.at(-1)?.state).toBe('succeeded');
    for (const progress of one.progress) {
      expect(['pull', 'review', 'apply', 'deactivate']).toContain(progress.phase);
      expect(progress.processed).toBeGreaterThanOrEqual(0);
    }
  });

  it('refuses a teacher the SIS rooms with an explicit ack, and sends them nothing', async () => {
    const socket = await socketFor(teacherToken);
    const heard = record(socket);
    expect(await socket.emitWithAck('room.join', { room: 'sis-ops' })).toMatchObject({
      ok: false,
      code: 'REALTIME.ROOM_FORBIDDEN',
    });
    const { connectionId } = await district('live-teacher');
    const runId = await startRun(app.url, adminToken, connectionId);
    expect(await socket.emitWithAck('room.join', { room: `sync-run:${runId}` })).toMatchObject({
      ok: false,
      code: 'REALTIME.ROOM_FORBIDDEN',
    });
    expect((await waitForRun(app.url, adminToken, runId)).state).toBe('succeeded');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard.states).toEqual([]);
    expect(heard.progress).toEqual([]);

    const admin = await socketFor(adminToken);
    expect(await admin.emitWithAck('room.join', { room: 'sis-ops' })).toEqual({ ok: true, room: 'sis-ops' });
  });

  it('exposes run, record, SIS request and last-success metrics', async () => {
    const { server, connectionId } = await district('live-metrics');
    const scrape = async (): Promise<string> => {
      const response = await request(app.metricsUrl).get('/metrics');
      expect(response.status).toBe(200);
      return response.text;
    };
    const before = await scrape();
    server.resetObservations();
    server.injectFault({ kind: 'server-error', status: 503, path: '/classes', times: 1 });
    const run = await waitForRun(app.url, adminToken, await startRun(app.url, adminToken, connectionId));
    server.clearFaults();
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    const after = await scrape();

    const delta = (name: string, labels: Record<string, string> = {}) =>
      metric(after, name, labels) - metric(before, name, labels);
    expect(delta('sis_sync_runs_total', { provider: 'oneroster', outcome: 'succeeded' })).toBe(1);
    expect(delta('sis_sync_runs_total', { provider: 'oneroster', outcome: 'failed' })).toBe(0);
    expect(delta('sis_sync_records_total', { entity: 'people', action: 'created' })).toBe(server.dataset.users.length);
    expect(delta('sis_sync_records_total', { entity: 'enrollments', action: 'created' })).toBe(
      server.dataset.enrollments.length,
    );
    const answered = server.requests.filter((entry) => entry.status === 200).length;
    expect(delta('sis_http_requests_total', { provider: 'oneroster', status: '200' })).toBe(answered);
    expect(delta('sis_http_requests_total', { provider: 'oneroster', status: '503' })).toBe(1);
    expect(delta('sis_http_retries_total', { provider: 'oneroster' })).toBeGreaterThanOrEqual(1);
    const lastSuccess = metric(after, 'homeroom_sis_connection_last_success_timestamp_seconds', {
      connection: connectionId,
    });
    const finished = Date.parse((await getRun(app.url, adminToken, run.id)).finishedAt!) / 1000;
    expect(lastSuccess).toBeCloseTo(finished, 0);
    expect(metric(after, 'sis_sync_run_duration_seconds_count', { provider: 'oneroster' })).toBeGreaterThanOrEqual(1);
  });
});
