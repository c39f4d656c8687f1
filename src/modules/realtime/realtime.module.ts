import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EndRevokedConnectionsHandler } from './application/event-handlers/end-revoked-connections.handler.js';
import { RealtimePublisher } from './application/ports/realtime-publisher.port.js';
import { RoomPolicyRegistry } from './application/room-policy.registry.js';
import { UserRoomPolicy } from './application/user-room.policy.js';
import { SocketIoRealtimePublisher } from './infrastructure/socket-io-realtime-publisher.js';
import { RealtimeGateway } from './interface/ws/realtime.gateway.js';

@Module({
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
})
export class RealtimeModule {}
