import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { RedisConfig } from '../../config/index.js';
import { EndRevokedConnectionsHandler } from './application/event-handlers/end-revoked-connections.handler.js';
import { RealtimePublisher } from './application/ports/realtime-publisher.port.js';
import { RoomPolicyRegistry } from './application/room-policy.registry.js';
import { UserRoomPolicy } from './application/user-room.policy.js';
import {
  NoListenersRealtimePublisher,
  RedisEmitterRealtimePublisher,
} from './infrastructure/redis-emitter-realtime-publisher.js';
import { SocketIoRealtimePublisher } from './infrastructure/socket-io-realtime-publisher.js';
import { RealtimeGateway } from './interface/ws/realtime.gateway.js';

/**
 * API roles run the socket.io gateway; other roles only publish (through Redis when it is configured), so
 * a worker's sync progress reaches clients connected to any API process, and a session revoked by any process
 * ends its sockets on every API process.
 */
@Module({})
export class RealtimeModule {
  static forRole({ servesSockets }: { servesSockets: boolean }): DynamicModule {
    if (servesSockets) {
      return {
        module: RealtimeModule,
        global: true,
        imports: [DiscoveryModule],
        providers: [
          SocketIoRealtimePublisher,
          { provide: RealtimePublisher, useExisting: SocketIoRealtimePublisher },
          RoomPolicyRegistry,
          UserRoomPolicy,
          RealtimeGateway,
          EndRevokedConnectionsHandler,
        ],
        exports: [RealtimePublisher],
      };
    }
    return {
      module: RealtimeModule,
      global: true,
      providers: [
        EndRevokedConnectionsHandler,
        {
          provide: RealtimePublisher,
          inject: [RedisConfig],
          useFactory: (redis: RedisConfig) =>
            redis.url ? new RedisEmitterRealtimePublisher(redis) : new NoListenersRealtimePublisher(),
        },
      ],
      exports: [RealtimePublisher],
    };
  }
}
