import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RealtimePublisher } from '../../src/modules/realtime/index.js';
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

describe('socket.io gateway', () => {
  let testApp: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    testApp = await bootTestApp({
      env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000', CORS_ORIGINS: 'https://portal.district.test' },
    });
    adminToken = (await login(testApp.url)).accessToken;
  });
  afterAll(async () => {
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
});

describe('two API processes on Redis', () => {
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    first = await bootTestApp({ redis: true, role: 'api', env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    second = await bootTestApp({
      redis: { prefix: first.redisPrefix! },
      databaseUrl: first.databaseUrl,
      role: 'api',
      env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' },
    });
  });
  afterAll(async () => {
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

  it('disabling a user on one process disconnects their socket on the other', async () => {
    const admin = await login(first.url);
    const created = await request(first.url)
      .post('/api/v1/users')
      .set(bearer(admin.accessToken))
      .send({ email: 'roaming@district.test', displayName: 'Roaming', password: PASSWORD });
    const teacher = await login(second.url, 'roaming@district.test', PASSWORD);
    const socket = await connect(second.url, { token: teacher.accessToken });
    const ended = nextEvent<{ reason: string }>(socket, 'session.ended');
    const gone = disconnected(socket);
    await request(first.url)
      .patch(`/api/v1/users/${created.body.id}`)
      .set(bearer(admin.accessToken))
      .send({ disabled: true })
      .expect(200);
    expect((await ended).reason).toMatch(/access-changed|revoked/);
    await gone;
  });
});
