import { SessionRevokedV1 } from '@app/contracts';
import { testRedisUrl } from '@app/testing';
import pg from 'pg';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RealtimePublisher } from '../../src/modules/realtime/index.js';
import { EndRevokedConnectionsHandler } from '../../src/modules/realtime/application/event-handlers/end-revoked-connections.handler.js';
import { RedisEmitterRealtimePublisher } from '../../src/modules/realtime/infrastructure/redis-emitter-realtime-publisher.js';
import { SocketIoRealtimePublisher } from '../../src/modules/realtime/infrastructure/socket-io-realtime-publisher.js';
import { bearer, login } from '../support/auth.js';
import { decodeJwt, signJwt } from '../support/jwt.js';
import { connectSocket, disconnected, nextEvent } from '../support/sockets.js';
import { bootTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app.js';

const PASSWORD = 'a-long-enough-password';
const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});
async function connect(url: string, options: Parameters<typeof connectSocket>[1]): Promise<Socket> {
  const socket = await connectSocket(url, options);
  sockets.push(socket);
  return socket;
}

/** Creates a user as the district admin and signs them in. */
async function createUser(
  url: string,
  adminToken: string,
  email: string,
  roles: string[],
): Promise<{ id: string; accessToken: string; sessionId: string }> {
  const created = await request(url)
    .post('/api/v1/users')
    .set(bearer(adminToken))
    .send({ email, displayName: email, password: PASSWORD, roles })
    .expect(201);
  const tokens = await login(url, email, PASSWORD);
  return {
    id: created.body.id as string,
    accessToken: tokens.accessToken,
    sessionId: decodeJwt(tokens.accessToken)['sid'] as string,
  };
}

/**
 * Takes the socket out of the rooms the server put it in at connection: first as the client would (`room.leave`,
 * whatever the answer), then server-side, so revocation is shown not to depend on room membership at all.
 */
async function leaveControlRooms(app: TestApp, socket: Socket, user: { id: string; sessionId: string }): Promise<void> {
  const rooms = [`user:${user.id}`, `session:${user.sessionId}`];
  for (const room of rooms) await socket.emitWithAck('room.leave', { room });
  app.app.get(SocketIoRealtimePublisher).server!.in(socket.id!).socketsLeave(rooms);
}

const ACCESS_DENIED = {
  seq: null,
  occurredAt: new Date(0).toISOString(),
  action: 'roster.student.read',
  actor: { id: null, roles: [] },
  studentIds: ['student-1'],
  reason: 'ROSTER.ACCESS_DENIED',
  route: 'GET /api/v1/students/:id',
};

describe('socket.io gateway', () => {
  let testApp: TestApp;
  let adminToken: string;
  let db: pg.Client;

  beforeAll(async () => {
    testApp = await bootTestApp({
      env: {
        AUTH_RATE_LIMIT_PER_MINUTE: '1000',
        CORS_ORIGINS: 'https://portal.district.test',
        REALTIME_MESSAGES_PER_SECOND: '5',
        REALTIME_MESSAGE_BURST: '10',
        // The periodic re-check is tested on two processes below; here only events and joins may end sockets.
        REALTIME_REVALIDATE_SECONDS: '3600',
      },
    });
    adminToken = (await login(testApp.url)).accessToken;
    db = new pg.Client({ connectionString: testApp.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
    await testApp.close();
  });

  it.each([
    ['no token', {}, 'AUTH.TOKEN_MISSING'],
    ['a bad token', { token: 'not-a-jwt' }, 'AUTH.TOKEN_INVALID'],
    ['a token in the query string', { query: { token: 'x' } }, 'AUTH.TOKEN_IN_QUERY'],
  ])('refuses %s', async (_label, options, code) => {
    await expect(connectSocket(testApp.url, options)).rejects.toThrow(code);
  });

  it('refuses an expired token', async () => {
    const claims = decodeJwt(adminToken);
    const now = Math.floor(Date.now() / 1000);
    const expired = signJwt({ ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 10 }, TEST_JWT_SECRET);
    await expect(connectSocket(testApp.url, { token: expired })).rejects.toThrow('AUTH.TOKEN_INVALID');
  });

  it('refuses a browser Origin that is not allowed, accepts an allowed one', async () => {
    await expect(connectSocket(testApp.url, { token: adminToken, origin: 'https://evil.example' })).rejects.toThrow(
      'AUTH.ORIGIN_NOT_ALLOWED',
    );
    const socket = await connect(testApp.url, { token: adminToken, origin: 'https://portal.district.test' });
    expect(socket.connected).toBe(true);
  });

  it('connects with a valid token and enforces room policies with explicit acks', async () => {
    const socket = await connect(testApp.url, { token: adminToken });
    const me = await request(testApp.url).get('/api/v1/auth/me').set(bearer(adminToken));
    expect(await socket.emitWithAck('room.join', { room: `user:${me.body.id}` })).toEqual({
      ok: true,
      room: `user:${me.body.id}`,
    });
    expect(await socket.emitWithAck('room.join', { room: 'user:someone-else' })).toMatchObject({
      ok: false,
      code: 'REALTIME.ROOM_FORBIDDEN',
    });
    expect(await socket.emitWithAck('room.join', { room: 'nuclear-codes:1' })).toMatchObject({
      ok: false,
      code: 'REALTIME.ROOM_UNKNOWN',
    });
    expect(await socket.emitWithAck('room.join', { room: '../../etc' })).toMatchObject({
      ok: false,
      code: 'REALTIME.BAD_REQUEST',
    });
  });

  it('publishes catalogued events to a room', async () => {
    const socket = await connect(testApp.url, { token: adminToken });
    const me = await request(testApp.url).get('/api/v1/auth/me').set(bearer(adminToken));
    await socket.emitWithAck('room.join', { room: `user:${me.body.id}` });
    const received = nextEvent(socket, 'room.joined');
    testApp.app.get(RealtimePublisher).publish(`user:${me.body.id}`, 'room.joined', { room: 'hello' });
    expect(await received).toEqual({ room: 'hello' });
  });

  it('drops the socket when its session logs out', async () => {
    const tokens = await login(testApp.url);
    const socket = await connect(testApp.url, { token: tokens.accessToken });
    const ended = nextEvent<{ reason: string }>(socket, 'session.ended');
    const gone = disconnected(socket);
    await request(testApp.url).post('/api/v1/auth/logout').set(bearer(tokens.accessToken)).expect(204);
    expect(await ended).toEqual({ reason: 'logout' });
    await gone;
  });

  it('drops the socket when its token expires', async () => {
    const claims = decodeJwt(adminToken);
    const now = Math.floor(Date.now() / 1000);
    const shortLived = signJwt({ ...claims, iat: now, nbf: now, exp: now + 2 }, TEST_JWT_SECRET);
    const socket = await connect(testApp.url, { token: shortLived });
    expect(await nextEvent(socket, 'session.ended', 5_000)).toEqual({ reason: 'token-expired' });
    await disconnected(socket);
  });

  it.each([
    ['logs out', /^logout$/],
    ['is disabled', /^(access-changed|revoked)$/],
    ['is demoted', /^access-changed$/],
  ])('drops a socket that left its own rooms when the user %s, and it hears nothing more', async (label, reason) => {
    const email = `left-rooms-${label.replace(/ /g, '-')}@district.test`;
    const user = await createUser(testApp.url, adminToken, email, ['district_admin']);
    const socket = await connect(testApp.url, { token: user.accessToken });
    expect(await socket.emitWithAck('room.join', { room: 'compliance' })).toEqual({ ok: true, room: 'compliance' });
    await leaveControlRooms(testApp, socket, user);
    const heard: string[] = [];
    socket.onAny((event: string) => heard.push(event));
    const ended = nextEvent<{ reason: string }>(socket, 'session.ended');
    const gone = disconnected(socket);

    if (label === 'logs out') {
      await request(testApp.url).post('/api/v1/auth/logout').set(bearer(user.accessToken)).expect(204);
    } else {
      await request(testApp.url)
        .patch(`/api/v1/users/${user.id}`)
        .set(bearer(adminToken))
        .send(label === 'is disabled' ? { disabled: true } : { roles: ['teacher'] })
        .expect(200);
    }
    testApp.app.get(RealtimePublisher).publish('compliance', 'audit.access-denied', ACCESS_DENIED);

    expect((await ended).reason).toMatch(reason);
    await gone;
    expect(heard).not.toContain('audit.access-denied');
  });

  it('checks the current roles and account when a socket joins a room, not the ones it connected with', async () => {
    const user = await createUser(testApp.url, adminToken, 'stale-roles@district.test', ['district_admin']);
    const socket = await connect(testApp.url, { token: user.accessToken });
    // The change reaches the database without its event reaching this process (a lost Redis message, a restore).
    await db.query(`UPDATE users SET roles = '["teacher"]' WHERE id = $1`, [user.id]);
    for (const room of ['compliance', 'sis-ops', 'sync-run:some-run']) {
      expect(await socket.emitWithAck('room.join', { room })).toMatchObject({
        ok: false,
        code: 'REALTIME.ROOM_FORBIDDEN',
      });
    }

    await db.query('UPDATE users SET disabled = true WHERE id = $1', [user.id]);
    const ended = nextEvent<{ reason: string }>(socket, 'session.ended');
    const gone = disconnected(socket);
    expect(await socket.emitWithAck('room.join', { room: `user:${user.id}` })).toMatchObject({
      ok: false,
      code: 'AUTH.TOKEN_INVALID',
    });
    expect(await ended).toEqual({ reason: 'access-changed' });
    await gone;
  });

  it('refuses to leave the rooms the server put the socket in, and leaves the ones it joined', async () => {
    const claims = decodeJwt(adminToken);
    const socket = await connect(testApp.url, { token: adminToken });
    for (const room of [`user:${String(claims['sub'])}`, `session:${String(claims['sid'])}`]) {
      expect(await socket.emitWithAck('room.leave', { room })).toMatchObject({
        ok: false,
        room,
        code: 'REALTIME.ROOM_NOT_LEAVABLE',
      });
    }
    const received = nextEvent(socket, 'room.joined');
    testApp.app.get(RealtimePublisher).publish(`user:${String(claims['sub'])}`, 'room.joined', { room: 'still-here' });
    expect(await received).toEqual({ room: 'still-here' });

    expect(await socket.emitWithAck('room.join', { room: 'compliance' })).toEqual({ ok: true, room: 'compliance' });
    expect(await socket.emitWithAck('room.leave', { room: 'compliance' })).toEqual({ ok: true, room: 'compliance' });
    const heard: string[] = [];
    socket.onAny((event: string) => heard.push(event));
    testApp.app.get(RealtimePublisher).publish('compliance', 'audit.access-denied', ACCESS_DENIED);
    testApp.app.get(RealtimePublisher).publish(`user:${String(claims['sub'])}`, 'room.joined', { room: 'marker' });
    await nextEvent(socket, 'room.joined');
    expect(heard).toEqual(['room.joined']);
  });

  it('limits how fast a socket may send: excess messages are refused, a flood is disconnected', async () => {
    const socket = await connect(testApp.url, { token: adminToken });
    const limited = nextEvent<{ limitPerSecond: number }>(socket, 'realtime.rate-limited');
    const gone = disconnected(socket);
    const acks = Array.from({ length: 40 }, () =>
      socket
        .timeout(3_000)
        .emitWithAck('room.join', { room: 'compliance' })
        .catch(() => ({ ok: 'no answer' })),
    ) as Promise<{ ok: unknown; code?: string }>[];

    expect(await limited).toMatchObject({ limitPerSecond: 5 });
    await gone;
    const answers = await Promise.all(acks);
    // The first ten were within the burst (their answers may not make it out before the close); the rest were not.
    expect(answers.filter((answer) => answer.ok === true).length).toBeLessThanOrEqual(12);
    expect(answers.filter((answer) => answer.code === 'REALTIME.RATE_LIMITED').length).toBeGreaterThanOrEqual(5);

    // A socket that stays under the limit is served as usual.
    const calm = await connect(testApp.url, { token: adminToken });
    for (let i = 0; i < 8; i += 1) {
      expect(await calm.emitWithAck('room.join', { room: 'compliance' })).toEqual({ ok: true, room: 'compliance' });
    }
    expect(calm.connected).toBe(true);
  });
});

describe('two API processes on Redis', () => {
  let first: TestApp;
  let second: TestApp;
  let db: pg.Client;

  beforeAll(async () => {
    first = await bootTestApp({
      redis: true,
      role: 'api',
      env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000', REALTIME_REVALIDATE_SECONDS: '1' },
    });
    second = await bootTestApp({
      redis: { prefix: first.redisPrefix! },
      databaseUrl: first.databaseUrl,
      role: 'api',
      env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000', REALTIME_REVALIDATE_SECONDS: '3600' },
    });
    db = new pg.Client({ connectionString: first.databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
    await second.close();
    await first.close();
  });

  it('an event published on one process reaches a client connected to the other', async () => {
    const admin = await login(first.url);
    const me = await request(first.url).get('/api/v1/auth/me').set(bearer(admin.accessToken));
    const socket = await connect(second.url, { token: admin.accessToken });
    await socket.emitWithAck('room.join', { room: `user:${me.body.id}` });
    const received = nextEvent(socket, 'room.joined');
    first.app.get(RealtimePublisher).publish(`user:${me.body.id}`, 'room.joined', { room: 'from-process-one' });
    expect(await received).toEqual({ room: 'from-process-one' });
  });

  it.each([
    ['disabling', { disabled: true }],
    ['demoting', { roles: ['teacher'] }],
  ])('%s a user on one process disconnects their socket on the other, rooms left or not', async (label, change) => {
    const admin = await login(first.url);
    const user = await createUser(first.url, admin.accessToken, `roaming-${label}@district.test`, ['district_admin']);
    const socket = await connect(second.url, { token: user.accessToken });
    expect(await socket.emitWithAck('room.join', { room: 'compliance' })).toEqual({ ok: true, room: 'compliance' });
    await leaveControlRooms(second, socket, user);
    const ended = nextEvent<{ reason: string }>(socket, 'session.ended');
    const gone = disconnected(socket);
    await request(first.url).patch(`/api/v1/users/${user.id}`).set(bearer(admin.accessToken)).send(change).expect(200);
    expect((await ended).reason).toMatch(/access-changed|revoked/);
    await gone;
  });

  it('logging out on one process disconnects the session socket on the other', async () => {
    const admin = await login(first.url);
    const user = await createUser(first.url, admin.accessToken, 'roaming-logout@district.test', ['teacher']);
    const socket = await connect(second.url, { token: user.accessToken });
    await leaveControlRooms(second, socket, user);
    const ended = nextEvent<{ reason: string }>(socket, 'session.ended');
    const gone = disconnected(socket);
    await request(first.url).post('/api/v1/auth/logout').set(bearer(user.accessToken)).expect(204);
    expect(await ended).toEqual({ reason: 'logout' });
    await gone;
  });

  it('a revocation announced by a process without sockets (worker, CLI) ends the socket through the Redis emitter', async () => {
    const admin = await login(first.url);
    const user = await createUser(first.url, admin.accessToken, 'roaming-worker@district.test', ['teacher']);
    const socket = await connect(second.url, { token: user.accessToken });
    await leaveControlRooms(second, socket, user);
    const worker = new RedisEmitterRealtimePublisher({ url: testRedisUrl(), prefix: first.redisPrefix! });
    try {
      const ended = nextEvent<{ reason: string }>(socket, 'session.ended');
      const gone = disconnected(socket);
      new EndRevokedConnectionsHandler(worker).handle(new SessionRevokedV1(user.id, user.sessionId, 'revoked'));
      expect(await ended).toEqual({ reason: 'revoked' });
      await gone;
    } finally {
      worker.onApplicationShutdown();
    }
  });

  it('re-checks its sockets against the database, so a change whose event never arrived still takes effect', async () => {
    const admin = await login(first.url);
    const user = await createUser(first.url, admin.accessToken, 'unannounced@district.test', ['district_admin']);
    const socket = await connect(first.url, { token: user.accessToken });
    expect(await socket.emitWithAck('room.join', { room: 'compliance' })).toEqual({ ok: true, room: 'compliance' });
    const heard: string[] = [];
    socket.onAny((event: string) => heard.push(event));

    // Changed in the database with no event (a lost Redis message, a restored backup).
    const left = nextEvent(socket, 'room.left');
    await db.query(`UPDATE users SET roles = '["teacher"]' WHERE id = $1`, [user.id]);
    expect(await left).toEqual({ room: 'compliance', code: 'REALTIME.ROOM_FORBIDDEN' });
    first.app.get(RealtimePublisher).publish('compliance', 'audit.access-denied', ACCESS_DENIED);

    const ended = nextEvent<{ reason: string }>(socket, 'session.ended');
    const gone = disconnected(socket);
    await db.query('UPDATE users SET disabled = true WHERE id = $1', [user.id]);
    expect(await ended).toEqual({ reason: 'access-changed' });
    await gone;
    expect(heard).not.toContain('audit.access-denied');
  });
});
