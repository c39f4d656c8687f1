import { SystemClock } from '@app/ddd';
import { deleteRedisKeys, testRedisUrl, uniqueRedisPrefix } from '@app/testing';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { createServer, type Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisConfig } from '../../src/config/index.js';
import type { RealtimePublisher } from '../../src/modules/realtime/index.js';
import { RedisEmitterRealtimePublisher } from '../../src/modules/realtime/infrastructure/redis-emitter-realtime-publisher.js';
import { SocketIoRealtimePublisher } from '../../src/modules/realtime/infrastructure/socket-io-realtime-publisher.js';
import { SyncRunBroadcaster } from '../../src/modules/sis-sync/application/services/sync-run.broadcaster.js';
import type { SyncRun } from '../../src/modules/sis-sync/index.js';

const RUN_ID = '0b0f1d62-5b0e-4f7e-9a55-3f4f8f8f0001';

function runIn(state: SyncRun['state']): SyncRun {
  return {
    id: RUN_ID,
    connectionId: '0b0f1d62-5b0e-4f7e-9a55-3f4f8f8f0002',
    state,
    dryRun: false,
    issueCount: 0,
    counts: {},
    errorCode: null,
  } as unknown as SyncRun;
}

/**
 * A client in both `sis-ops` and `sync-run:<id>` hears each run event once, whether it is published by an API
 * process's socket.io server or by a worker through the Redis emitter (socket.io and its Redis adapter send one
 * message per socket for several rooms, never one per room).
 */
describe.each([
  ['socket.io server (API process)', (server: Server, redis: RedisConfig) => attachedPublisher(server, redis)],
  ['Redis emitter (worker process)', (_server: Server, redis: RedisConfig) => new RedisEmitterRealtimePublisher(redis)],
])('run events through the %s', (_name, makePublisher) => {
  let http: HttpServer;
  let server: Server;
  let pub: Redis;
  let sub: Redis;
  let client: Socket;
  let publisher: RealtimePublisher;
  let redis: RedisConfig;

  beforeEach(async () => {
    redis = { url: testRedisUrl(), prefix: uniqueRedisPrefix('once') };
    pub = new Redis(redis.url!);
    sub = pub.duplicate();
    http = createServer();
    server = new Server(http, { transports: ['websocket'] });
    server.adapter(createAdapter(pub, sub, { key: `${redis.prefix}:socket.io` }));
    server.on('connection', (socket) => void socket.join(['sis-ops', `sync-run:${RUN_ID}`]));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as { port: number };
    const joined = new Promise<void>((resolve) => server.once('connection', () => setTimeout(resolve, 20)));
    client = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
    await joined;
    publisher = makePublisher(server, redis);
    // The Redis adapter subscribes asynchronously; an emitter message sent before that would be lost.
    await new Promise((resolve) => setTimeout(resolve, 200));
  });

  afterEach(async () => {
    client.close();
    (publisher as Partial<{ onApplicationShutdown(): void }>).onApplicationShutdown?.();
    await new Promise<void>((resolve) => void server.close(() => resolve()));
    pub.disconnect();
    sub.disconnect();
    await deleteRedisKeys(redis.prefix);
  });

  /** Everything the client hears until a marker sent after the events under test (same channel, so in order). */
  async function heardUntilMarker(send: () => void): Promise<{ event: string; payload: unknown }[]> {
    const heard: { event: string; payload: unknown }[] = [];
    client.onAny((event: string, payload: unknown) => heard.push({ event, payload }));
    const marker = new Promise<void>((resolve) => client.on('room.left', () => resolve()));
    send();
    publisher.publish(`sync-run:${RUN_ID}`, 'room.left', { room: 'marker', code: 'TEST.MARKER' });
    await marker;
    return heard.filter((entry) => entry.event !== 'room.left');
  }

  it('delivers a state change once to a client in both rooms', async () => {
    const broadcaster = new SyncRunBroadcaster(publisher, new SystemClock());
    const heard = await heardUntilMarker(() => broadcaster.stateChanged(runIn('running')));
    expect(heard.map((entry) => entry.event)).toEqual(['sis-sync.run-state']);
    expect(heard[0].payload).toMatchObject({ runId: RUN_ID, state: 'running' });
  });

  it('delivers progress once to a client in both rooms', async () => {
    const broadcaster = new SyncRunBroadcaster(publisher, new SystemClock());
    const heard = await heardUntilMarker(() =>
      broadcaster.progress(runIn('running'), { phase: 'pull', entity: 'people', processed: 10, total: null }),
    );
    expect(heard.map((entry) => entry.event)).toEqual(['sis-sync.run-progress']);
  });
});

function attachedPublisher(server: Server, redis: RedisConfig): SocketIoRealtimePublisher {
  const publisher = new SocketIoRealtimePublisher(redis);
  publisher.attach(server);
  return publisher;
}
