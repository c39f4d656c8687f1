import type { RealtimeEventCatalogue, RoomJoinAck } from '@app/contracts';
import { isDomainError } from '@app/ddd';
import { MikroORM, RequestContext } from '@mikro-orm/core';
import { Logger } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { AppConfig } from '../../../../config/index.js';
import { AuthenticateAccessTokenQuery, type Authentication, type AuthenticatedUser } from '../../../identity/index.js';
import { MetricsRegistry } from '../../../observability/index.js';
import { RoomPolicyRegistry } from '../../application/room-policy.registry.js';
import { SocketIoRealtimePublisher } from '../../infrastructure/socket-io-realtime-publisher.js';

interface SocketData {
  user: AuthenticatedUser;
  expiryTimer?: NodeJS.Timeout;
}

type AuthedSocket = Socket<Record<string, never>, ServerToClient, Record<string, never>, SocketData>;

type ServerToClient = {
  [N in keyof RealtimeEventCatalogue]: (payload: RealtimeEventCatalogue[N]) => void;
};

const MAX_TIMER_MS = 2_147_483_647;

/** Refusal carried to the client as `connect_error` with a stable code as its message. */
function refusal(code: string): Error & { data: { code: string } } {
  return Object.assign(new Error(code), { data: { code } });
}

/**
 * The socket.io entry point. Clients authenticate in the handshake `auth` payload (never the query
 * string, which ends up in access logs), from an allowed Origin; sockets are dropped when their token
 * expires or their session is revoked, and join rooms only where the owning module's policy allows.
 */
@WebSocketGateway()
export class RealtimeGateway implements OnGatewayInit, OnGatewayDisconnect {
  private readonly logger = new Logger('Realtime');

  constructor(
    private readonly queries: QueryBus,
    private readonly orm: MikroORM,
    private readonly rooms: RoomPolicyRegistry,
    private readonly publisher: SocketIoRealtimePublisher,
    private readonly metrics: MetricsRegistry,
    private readonly app: AppConfig,
  ) {}

  afterInit(server: Server): void {
    this.publisher.attach(server);
    server.use((socket, next) => {
      this.admit(socket as AuthedSocket)
        .then(() => next())
        .catch((error: Error) => next(error));
    });
  }

  handleDisconnect(socket: AuthedSocket): void {
    if (socket.data.expiryTimer) clearTimeout(socket.data.expiryTimer);
    if (socket.data.user) this.metrics.websocketConnections.dec();
  }

  @SubscribeMessage('room.join')
  async join(@ConnectedSocket() socket: AuthedSocket, @MessageBody() body: unknown): Promise<RoomJoinAck> {
    const room = (body as { room?: unknown } | null)?.room;
    const decision = await RequestContext.create(this.orm.em, () => this.rooms.decide(socket.data.user, room));
    const name = typeof room === 'string' ? room.slice(0, 150) : '';
    if (!decision.ok) return { ok: false, room: name, code: decision.code, message: decision.message };
    await socket.join(name);
    return { ok: true, room: name };
  }

  @SubscribeMessage('room.leave')
  async leave(@ConnectedSocket() socket: AuthedSocket, @MessageBody() body: unknown): Promise<RoomJoinAck> {
    const room = (body as { room?: unknown } | null)?.room;
    if (typeof room !== 'string') {
      return { ok: false, room: '', code: 'REALTIME.BAD_REQUEST', message: 'Give the room to leave' };
    }
    await socket.leave(room);
    return { ok: true, room };
  }

  private async admit(socket: AuthedSocket): Promise<void> {
    const { handshake } = socket;
    const origin = handshake.headers.origin;
    if (origin && !this.app.corsOrigins.includes(origin)) throw refusal('AUTH.ORIGIN_NOT_ALLOWED');
    if ('token' in handshake.query || 'access_token' in handshake.query) throw refusal('AUTH.TOKEN_IN_QUERY');
    const token = (handshake.auth as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token.length === 0) throw refusal('AUTH.TOKEN_MISSING');

    let authentication: Authentication;
    try {
      authentication = await RequestContext.create(this.orm.em, () =>
        this.queries.execute(new AuthenticateAccessTokenQuery(token)),
      );
    } catch (error) {
      if (isDomainError(error)) throw refusal('AUTH.TOKEN_INVALID');
      this.logger.error({ err: error }, 'Socket authentication failed');
      throw refusal('AUTH.UNAVAILABLE');
    }
    const { user, expiresAt } = authentication;
    socket.data.user = user;
    await socket.join([`user:${user.id}`, `session:${user.sessionId}`]);
    const msLeft = Math.min(Math.max(0, expiresAt.getTime() - Date.now()), MAX_TIMER_MS);
    socket.data.expiryTimer = setTimeout(() => {
      socket.emit('session.ended', { reason: 'token-expired' });
      setTimeout(() => socket.disconnect(true), 50).unref();
    }, msLeft);
    socket.data.expiryTimer.unref();
    this.metrics.websocketConnections.inc();
  }
}
