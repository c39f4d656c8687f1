import type { RealtimeEventName, RealtimeEventPayload } from '@app/contracts';
import { Injectable } from '@nestjs/common';
import type { Server } from 'socket.io';
import { RedisConfig } from '../../../config/index.js';
import { ConnectionTarget, RealtimePublisher } from '../application/ports/realtime-publisher.port.js';
import {
  END_CONNECTIONS,
  endSocket,
  isConnectionTarget,
  isEndReason,
  matchesTarget,
  type RealtimeSocket,
} from './realtime-socket.js';

/**
 * Publishes through this process's socket.io server. Ending connections looks through this process's own sockets
 * by the identity recorded at admission, and asks the other API processes (through the Redis adapter) to do the
 * same with theirs: revocation never depends on room membership, which a client could change.
 */
@Injectable()
export class SocketIoRealtimePublisher extends RealtimePublisher {
  #server: Server | undefined;
  private readonly clustered: boolean;

  constructor(redis: RedisConfig) {
    super();
    this.clustered = redis.url !== undefined;
  }

  /** The socket.io server, once the gateway attached it. */
  get server(): Server | undefined {
    return this.#server;
  }

  /** Called by the gateway once socket.io is up. */
  attach(server: Server): void {
    this.#server = server;
    server.on(END_CONNECTIONS, (target: unknown, reason: unknown) => {
      if (isConnectionTarget(target) && isEndReason(reason)) this.endLocalConnections(target, reason);
    });
  }

  publish<N extends RealtimeEventName>(
    rooms: string | readonly string[],
    event: N,
    payload: RealtimeEventPayload<N>,
  ): void {
    this.#server?.to(typeof rooms === 'string' ? rooms : [...rooms]).emit(event, payload);
  }

  endConnections(target: ConnectionTarget, reason: RealtimeEventPayload<'session.ended'>['reason']): void {
    if (!this.#server) return;
    this.endLocalConnections(target, reason);
    if (this.clustered) this.#server.serverSideEmit(END_CONNECTIONS, target, reason);
  }

  private endLocalConnections(target: ConnectionTarget, reason: RealtimeEventPayload<'session.ended'>['reason']): void {
    for (const socket of this.#server?.of('/').sockets.values() ?? []) {
      if (matchesTarget(socket as RealtimeSocket, target)) endSocket(socket as RealtimeSocket, reason);
    }
  }
}
