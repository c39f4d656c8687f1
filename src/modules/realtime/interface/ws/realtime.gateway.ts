import type { RoomJoinAck } from '@app/contracts';
import { isDomainError } from '@app/ddd';
import { MikroORM, RequestContext } from '@mikro-orm/core';
import { Logger, type OnModuleDestroy } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import { performance } from 'node:perf_hooks';
import type { Server } from 'socket.io';
import { AppConfig, RealtimeConfig } from '../../../../config/index.js';
import { AuthenticateAccessTokenQuery, type Authentication, type AuthenticatedUser } from '../../../identity/index.js';
import { MetricsRegistry } from '../../../observability/index.js';
import { MessageRateLimiter } from '../../application/message-rate-limiter.js';
import { RoomPolicyRegistry } from '../../application/room-policy.registry.js';
import { endSocket, type RealtimeSocket } from '../../infrastructure/realtime-socket.js';
import { SocketIoRealtimePublisher } from '../../infrastructure/socket-io-realtime-publisher.js';

const MAX_TIMER_MS = 2_147_483_647;

/** Refusal carried to the client as `connect_error` with a stable code as its message. */
function refusal(code: string): Error & { data: { code: string } } {
  return Object.assign(new Error(code), { data: { code } });
}

type CurrentUser = { ok: true; user: AuthenticatedUser } | { ok: false; code: string; message: string };

/**
 * The socket.io entry point. Clients authenticate in the handshake `auth` payload (never the query
 * string, which ends up in access logs), from an allowed Origin; sockets are dropped when their token
 * expires or their session is revoked (found by the identity recorded here, not by room), join rooms only
 * where the owning module's policy allows for the user's roles at the time of the join, cannot leave the rooms
 * the server put them in, and send at most `REALTIME_MESSAGES_PER_SECOND` messages. Every
 * `REALTIME_REVALIDATE_SECONDS` each process re-checks its own sockets against the database, so a revocation
 * whose event was lost (Redis pub/sub delivers at most once) still takes effect.
 */
@WebSocketGateway()
export class RealtimeGateway implements OnGatewayInit, OnGatewayDisconnect, OnModuleDestroy {
  private readonly logger = new Logger('Realtime');
  private revalidation: NodeJS.Timeout | undefined;
  private revalidating = false;

  constructor(
    private readonly queries: QueryBus,
    private readonly orm: MikroORM,
    private readonly rooms: RoomPolicyRegistry,
    private readonly publisher: SocketIoRealtimePublisher,
    private readonly metrics: MetricsRegistry,
    private readonly app: AppConfig,
    private readonly limits: RealtimeConfig,
  ) {}

  afterInit(server: Server): void {
    this.publisher.attach(server);
    server.use((socket, next) => {
      this.admit(socket as RealtimeSocket)
        .then(() => next())
        .catch((error: Error) => next(error));
    });
    this.revalidation = setInterval(() => void this.revalidateAll(server), this.limits.revalidateSeconds * 1000);
    this.revalidation.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.revalidation);
  }

  handleDisconnect(socket: RealtimeSocket): void {
    if (socket.data.expiryTimer) clearTimeout(socket.data.expiryTimer);
    if (socket.data.user) this.metrics.websocketConnections.dec();
  }

  @SubscribeMessage('room.join')
  async join(@ConnectedSocket() socket: RealtimeSocket, @MessageBody() body: unknown): Promise<RoomJoinAck> {
    const room = (body as { room?: unknown } | null)?.room;
    const name = typeof room === 'string' ? room.slice(0, 150) : '';
    // The roles the socket connected with may be stale: decide on the user as the database has them now.
    const current = await this.currentUser(socket);
    if (!current.ok) return { ok: false, room: name, code: current.code, message: current.message };
    const decision = await RequestContext.create(this.orm.em, () => this.rooms.decide(current.user, room));
    if (!decision.ok) return { ok: false, room: name, code: decision.code, message: decision.message };
    if (socket.data.ended || socket.disconnected) {
      return { ok: false, room: name, code: 'AUTH.TOKEN_INVALID', message: 'The session has ended' };
    }
    if (!socket.data.controlRooms.includes(name)) socket.data.clientRooms.add(name);
    await socket.join(name);
    // Joined first, then read: a change after the read still reaches the socket as an event.
    await this.sendCurrentState(socket, name);
    return { ok: true, room: name };
  }

  /**
   * Sends the room's current state to a socket that just joined it (e.g. a run's `queued` and `running`, emitted
   * before the client had the run id). Failing to read it does not undo the join: live events still flow.
   */
  private async sendCurrentState(socket: RealtimeSocket, room: string): Promise<void> {
    try {
      const events = await RequestContext.create(this.orm.em, () => this.rooms.currentState(room));
      if (socket.data.ended || socket.disconnected) return;
      for (const { event, payload } of events) (socket.emit as (name: string, body: unknown) => void)(event, payload);
    } catch (error) {
      this.logger.error({ err: error, room }, 'Reading the current state of a room failed');
    }
  }

  @SubscribeMessage('room.leave')
  async leave(@ConnectedSocket() socket: RealtimeSocket, @MessageBody() body: unknown): Promise<RoomJoinAck> {
    const room = (body as { room?: unknown } | null)?.room;
    if (typeof room !== 'string') {
      return { ok: false, room: '', code: 'REALTIME.BAD_REQUEST', message: 'Give the room to leave' };
    }
    // A client leaves only what it joined; the rooms the server put it in are not the client's to change.
    if (!socket.data.clientRooms.has(room) && socket.rooms.has(room)) {
      return {
        ok: false,
        room: room.slice(0, 150),
        code: 'REALTIME.ROOM_NOT_LEAVABLE',
        message: 'This connection stays in this room until it closes',
      };
    }
    socket.data.clientRooms.delete(room);
    await socket.leave(room);
    return { ok: true, room };
  }

  /**
   * Ends the sockets whose token no longer authenticates, and takes the others out of joined rooms their
   * current roles no longer allow. One socket at a time, so the sweep never crowds the connection pool.
   */
  private async revalidateAll(server: Server): Promise<void> {
    if (this.revalidating) return;
    this.revalidating = true;
    try {
      for (const socket of [...server.of('/').sockets.values()] as RealtimeSocket[]) {
        if (socket.data.ended || socket.disconnected || !socket.data.user) continue;
        const current = await this.currentUser(socket);
        if (!current.ok) {
          if (current.code === 'AUTH.UNAVAILABLE') return;
          continue;
        }
        for (const room of [...socket.data.clientRooms]) {
          const decision = await RequestContext.create(this.orm.em, () => this.rooms.decide(current.user, room));
          if (decision.ok || socket.data.ended) continue;
          socket.data.clientRooms.delete(room);
          await socket.leave(room);
          socket.emit('room.left', { room, code: decision.code });
        }
      }
    } catch (error) {
      this.logger.error({ err: error }, 'Socket revalidation failed');
    } finally {
      this.revalidating = false;
    }
  }

  /** Re-reads the socket's user (roles, enabled, token version, session) from the database. */
  private async currentUser(socket: RealtimeSocket): Promise<CurrentUser> {
    if (socket.data.ended) return { ok: false, code: 'AUTH.TOKEN_INVALID', message: 'The session has ended' };
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    try {
      const { user } = await RequestContext.create(this.orm.em, () =>
        this.queries.execute(new AuthenticateAccessTokenQuery(String(token))),
      );
      socket.data.user = user;
      return { ok: true, user };
    } catch (error) {
      if (!isDomainError(error)) {
        this.logger.error({ err: error }, 'Socket re-authentication failed');
        return { ok: false, code: 'AUTH.UNAVAILABLE', message: 'Try again later' };
      }
      endSocket(socket, socket.data.expiresAt.getTime() <= Date.now() ? 'token-expired' : 'access-changed');
      return { ok: false, code: 'AUTH.TOKEN_INVALID', message: 'The session has ended; sign in again' };
    }
  }

  private async admit(socket: RealtimeSocket): Promise<void> {
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
    const controlRooms = [`user:${user.id}`, `session:${user.sessionId}`];
    socket.data.user = user;
    socket.data.expiresAt = expiresAt;
    socket.data.controlRooms = controlRooms;
    socket.data.clientRooms = new Set();
    this.limitMessages(socket);
    await socket.join(controlRooms);
    const msLeft = Math.min(Math.max(0, expiresAt.getTime() - Date.now()), MAX_TIMER_MS);
    socket.data.expiryTimer = setTimeout(() => endSocket(socket, 'token-expired'), msLeft);
    socket.data.expiryTimer.unref();
    this.metrics.websocketConnections.inc();
  }

  /** Every inbound message spends from the socket's budget; the excess is refused, a flood disconnected. */
  private limitMessages(socket: RealtimeSocket): void {
    const limiter = new MessageRateLimiter(this.limits.messagesPerSecond, this.limits.messageBurst, performance.now());
    socket.use((packet, next) => {
      const verdict = limiter.take(performance.now());
      if (verdict === 'accept') {
        next();
        return;
      }
      const ack: unknown = packet[packet.length - 1];
      if (typeof ack === 'function') {
        (ack as (answer: RoomJoinAck) => void)({
          ok: false,
          room: '',
          code: 'REALTIME.RATE_LIMITED',
          message: `At most ${limiter.perSecond} messages a second`,
        });
      }
      if (verdict === 'refuse' || socket.data.ended) return;
      const disconnecting = verdict === 'disconnect';
      socket.emit('realtime.rate-limited', { limitPerSecond: limiter.perSecond, disconnecting });
      if (disconnecting) {
        this.logger.warn({ userId: socket.data.user.id }, 'Socket disconnected for flooding');
        socket.data.ended = true;
        setTimeout(() => socket.disconnect(true), 50).unref();
      }
    });
  }
}
