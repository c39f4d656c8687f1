import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeOneRosterServer, generateDistrict } from '../fakes/oneroster/index.js';
import { login } from '../support/auth.js';
import { connectSocket } from '../support/sockets.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { createOneRosterConnection, eventually, startRun, userWithRole, waitForRun } from './sync-support.js';

interface RunState {
  runId: string;
  state: string;
  at: string;
  counts: Record<string, Record<string, number>>;
}

interface RunProgress {
  runId: string;
  phase: string;
  entity: string;
  processed: number;
  total: number | null;
  at: string;
}

function record(socket: Socket): { states: RunState[]; progress: RunProgress[] } {
  const heard = { states: [] as RunState[], progress: [] as RunProgress[] };
  socket.on('sis-sync.run-state', (payload: RunState) => heard.states.push(payload));
  socket.on('sis-sync.run-progress', (payload: RunProgress) => heard.progress.push(payload));
  return heard;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** What a client can rely on: each event once, the current state on joining a run's room, timestamps and totals. */
describe('live sync events a client can rely on', () => {
  let app: TestApp;
  let adminToken: string;
  let operatorToken: string;
  let teacherToken: string;
  let server: FakeOneRosterServer;
  let connectionId: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    app = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    adminToken = (await login(app.url)).accessToken;
    operatorToken = await userWithRole(app.url, adminToken, 'sis_operator');
    teacherToken = await userWithRole(app.url, adminToken, 'teacher');
    server = new FakeOneRosterServer({
      dataset: generateDistrict({ seed: 'live-events', schools: 2, students: 25, teachers: 4, classes: 5 }),
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: 'fake-secret' },
    });
    await server.start();
    connectionId = await createOneRosterConnection(app.url, adminToken, {
      name: 'live events',
      baseUrl: server.baseUrlFor('1.2'),
      auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'fake-secret' },
      pageSize: 10,
      concurrency: 1,
    });
  });

  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  afterAll(async () => {
    await server?.stop();
    await app?.close();
  });

  async function socketFor(token: string): Promise<Socket> {
    const socket = await connectSocket(app.url, { token });
    sockets.push(socket);
    return socket;
  }

  it('a client in sis-ops and the run room hears every event once, stamped, with totals for the apply', async () => {
    const socket = await socketFor(operatorToken);
    const heard = record(socket);
    expect(await socket.emitWithAck('room.join', { room: 'sis-ops' })).toEqual({ ok: true, room: 'sis-ops' });
    // Slow enough that the run is still going when the client joins its room.
    server.injectFault({ kind: 'slow', delayMs: 60 });
    const runId = await startRun(app.url, operatorToken, connectionId);
    expect(await socket.emitWithAck('room.join', { room: `sync-run:${runId}` })).toMatchObject({ ok: true });
    expect((await waitForRun(app.url, operatorToken, runId)).state).toBe('succeeded');
    server.clearFaults();
    await eventually(
      () => (heard.states.some((state) => state.state === 'succeeded') ? true : undefined),
      5_000,
      'the final state',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    const states = heard.states.filter((state) => state.runId === runId);
    expect(states.filter((state) => state.state === 'succeeded')).toHaveLength(1);
    // Joining the run's room sent its state then (a second `queued` or `running`, stamped later); apart from it,
    // no event arrived twice.
    const delivered = [...states, ...heard.progress].map((event) => JSON.stringify(event));
    expect(new Set(delivered).size).toBe(delivered.length);
    for (const event of [...states, ...heard.progress]) {
      expect(event.at).toMatch(ISO_INSTANT);
    }
    const stamps = states.map((state) => Date.parse(state.at));
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    // No progress event twice (the same phase, entity and count arriving from both rooms).
    const keys = heard.progress.map((progress) => `${progress.phase}/${progress.entity}/${progress.processed}`);
    expect(new Set(keys).size).toBe(keys.length);
    // The apply knows how many records each entity has: its last progress says so, so a client can show 100 %.
    const people = heard.progress.filter((progress) => progress.phase === 'apply' && progress.entity === 'people');
    expect(people.at(-1)).toMatchObject({ processed: server.dataset.users.length, total: server.dataset.users.length });
    for (const progress of heard.progress) {
      if (progress.total !== null) expect(progress.processed).toBeLessThanOrEqual(progress.total);
    }
  });

  it('a client joining a run room after the 202 receives the run state first, even once the run has settled', async () => {
    const runId = await startRun(app.url, operatorToken, connectionId);
    const early = await socketFor(operatorToken);
    const earlyHeard = record(early);
    expect(await early.emitWithAck('room.join', { room: `sync-run:${runId}` })).toMatchObject({ ok: true });
    // The state is sent before the join's ack: it is there when the ack resolves.
    expect(earlyHeard.states[0]).toMatchObject({ runId, connectionId });
    expect(['queued', 'running', 'succeeded']).toContain(earlyHeard.states[0].state);

    expect((await waitForRun(app.url, operatorToken, runId)).state).toBe('succeeded');
    const late = await socketFor(operatorToken);
    const lateHeard = record(late);
    expect(await late.emitWithAck('room.join', { room: `sync-run:${runId}` })).toMatchObject({ ok: true });
    expect(lateHeard.states).toHaveLength(1);
    expect(lateHeard.states[0]).toMatchObject({ runId, state: 'succeeded' });
    expect(lateHeard.states[0].at).toMatch(ISO_INSTANT);
    expect(lateHeard.states[0].counts['people']?.['unchanged']).toBe(server.dataset.users.length);
  });

  it('sends nothing about a run to a client the room refuses, nor for a run that does not exist', async () => {
    const runId = await startRun(app.url, operatorToken, connectionId);
    expect((await waitForRun(app.url, operatorToken, runId)).state).toBe('succeeded');
    const teacher = await socketFor(teacherToken);
    const teacherHeard = record(teacher);
    expect(await teacher.emitWithAck('room.join', { room: `sync-run:${runId}` })).toMatchObject({
      ok: false,
      code: 'REALTIME.ROOM_FORBIDDEN',
    });
    const operator = await socketFor(operatorToken);
    const operatorHeard = record(operator);
    expect(
      await operator.emitWithAck('room.join', { room: 'sync-run:00000000-0000-4000-8000-000000000000' }),
    ).toMatchObject({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(teacherHeard.states).toEqual([]);
    expect(operatorHeard.states).toEqual([]);
  });
});
