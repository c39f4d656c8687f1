import type { RealtimeEventName, RealtimeEventPayload } from '@app/contracts';
import { Injectable } from '@nestjs/common';
import type { Server } from 'socket.io';
import { RealtimePublisher } from '../application/ports/realtime-publisher.port.js';

@Injectable()
export class SocketIoRealtimePublisher extends RealtimePublisher {
  private server: Server | undefined;

  /** Called by the gateway once socket.io is up. */
  attach(server: Server): void {
    this.server = server;
  }

  publish<N extends RealtimeEventName>(room: string, event: N, payload: RealtimeEventPayload<N>): void {
    this.server?.to(room).emit(event, payload);
  }

  endConnections(room: string, reason: RealtimeEventPayload<'session.ended'>['reason']): void {
    if (!this.server) return;
    this.server.to(room).emit('session.ended', { reason });
    // Give the event a moment to flush before the close frame.
    setTimeout(() => this.server?.in(room).disconnectSockets(true), 50).unref();
  }
}
