import type { INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { Server, ServerOptions } from 'socket.io';
import type { LoadedConfiguration } from '../../../config/index.js';
import { createFanOutPublisher, createFanOutSubscriber } from './fan-out-redis.client.js';

/** socket.io with fan-out through Redis pub/sub, so an event emitted on one API process reaches all. */
class RedisIoAdapter extends IoAdapter {
  private readonly pub: Redis;
  private readonly sub: Redis;

  constructor(
    app: INestApplication,
    url: string,
    private readonly prefix: string,
    private readonly corsOrigins: readonly string[],
  ) {
    super(app);
    this.pub = createFanOutPublisher(url);
    this.sub = createFanOutSubscriber(url);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, withCors(options, this.corsOrigins));
    server.adapter(createAdapter(this.pub, this.sub, { key: `${this.prefix}:socket.io` }));
    return server;
  }

  override async close(server: Server): Promise<void> {
    await super.close(server);
    this.pub.disconnect();
    this.sub.disconnect();
  }
}

class InProcessIoAdapter extends IoAdapter {
  constructor(
    app: INestApplication,
    private readonly corsOrigins: readonly string[],
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    return super.createIOServer(port, withCors(options, this.corsOrigins));
  }
}

/** Clients send small control messages (`room.join`, `room.leave`): anything over 16 KiB closes the connection. */
const MAX_MESSAGE_BYTES = 16 * 1024;

function withCors(options: ServerOptions | undefined, origins: readonly string[]): ServerOptions {
  return {
    ...(options as ServerOptions),
    cors: { origin: [...origins], credentials: false },
    serveClient: false,
    maxHttpBufferSize: MAX_MESSAGE_BYTES,
  };
}

export function configureRealtimeAdapter(app: INestApplication, configuration: LoadedConfiguration): Promise<void> {
  const { url, prefix } = configuration.redis;
  const origins = configuration.app.corsOrigins;
  app.useWebSocketAdapter(url ? new RedisIoAdapter(app, url, prefix, origins) : new InProcessIoAdapter(app, origins));
  return Promise.resolve();
}
