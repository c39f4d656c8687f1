import type { RealtimeEventName, RealtimeEventPayload } from '@app/contracts';
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import { RedisConfig } from '../../../config/index.js';
import { ConnectionTarget, RealtimePublisher } from '../application/ports/realtime-publisher.port.js';
import { createFanOutPublisher } from './fan-out-redis.client.js';
import { END_CONNECTIONS } from './realtime-socket.js';

/**
 * For processes without a socket.io server (workers, the CLI): events go through the same Redis channel the
 * API processes' adapter listens on, and reach the clients connected to any of them.
 */
@Injectable()
export class RedisEmitterRealtimePublisher extends RealtimePublisher implements OnApplicationShutdown {
  private readonly redis: Redis;
  private readonly emitter: Emitter;

  constructor(config: RedisConfig) {
    super();
    this.redis = createFanOutPublisher(config.url!);
    this.emitter = new Emitter(this.redis, { key: `${config.prefix}:socket.io` });
  }

  /** The receiving adapters send one message per socket for all `rooms` together. */
  publish<N extends RealtimeEventName>(
    rooms: string | readonly string[],
    event: N,
    payload: RealtimeEventPayload<N>,
  ): void {
    this.emitter.to(typeof rooms === 'string' ? rooms : [...rooms]).emit(event, payload);
  }

  /** Every API process ends its own matching sockets (see `SocketIoRealtimePublisher`). */
  endConnections(target: ConnectionTarget, reason: RealtimeEventPayload<'session.ended'>['reason']): void {
    this.emitter.serverSideEmit(END_CONNECTIONS, target, reason);
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

/** A process with neither sockets nor Redis (the CLI on the embedded default) has no one to tell. */
@Injectable()
export class NoListenersRealtimePublisher extends RealtimePublisher {
  publish(): void {}

  endConnections(): void {}
}
