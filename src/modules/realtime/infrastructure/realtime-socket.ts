import type { RealtimeEventCatalogue, RealtimeEventPayload } from '@app/contracts';
import type { Socket } from 'socket.io';
import type { AuthenticatedUser } from '../../identity/index.js';
import type { ConnectionTarget } from '../application/ports/realtime-publisher.port.js';

/** What the server records about an admitted socket; the client can change none of it. */
export interface RealtimeSocketData {
  user: AuthenticatedUser;
  expiresAt: Date;
  /** Rooms the server put the socket in at admission (`user:<id>`, `session:<id>`): never left on request. */
  controlRooms: readonly string[];
  /** Rooms the client joined with `room.join` (and so may leave). */
  clientRooms: Set<string>;
  expiryTimer?: NodeJS.Timeout;
  /** Set once the socket's session ended: it joins nothing more and is about to be disconnected. */
  ended?: boolean;
}

type ServerToClient = {
  [N in keyof RealtimeEventCatalogue]: (payload: RealtimeEventCatalogue[N]) => void;
};

export type RealtimeSocket = Socket<Record<string, never>, ServerToClient, Record<string, never>, RealtimeSocketData>;

/** The server-to-server message (through the socket.io adapter) that ends connections on every API process. */
export const END_CONNECTIONS = 'homeroom:end-connections';

type EndReason = RealtimeEventPayload<'session.ended'>['reason'];
const END_REASONS: ReadonlySet<string> = new Set<EndReason>(['logout', 'access-changed', 'token-expired', 'revoked']);

export function isEndReason(value: unknown): value is EndReason {
  return typeof value === 'string' && END_REASONS.has(value);
}

export function isConnectionTarget(value: unknown): value is ConnectionTarget {
  if (typeof value !== 'object' || value === null) return false;
  const target = value as Record<string, unknown>;
  return typeof target['sessionId'] === 'string' || typeof target['userId'] === 'string';
}

export function matchesTarget(socket: RealtimeSocket, target: ConnectionTarget): boolean {
  const user = socket.data.user as AuthenticatedUser | undefined;
  if (!user) return false;
  return 'sessionId' in target ? user.sessionId === target.sessionId : user.id === target.userId;
}

/**
 * Ends one socket's session: out of every room at once (so it hears nothing more), `session.ended`, then the
 * close a moment later so the event can flush first.
 */
export function endSocket(socket: RealtimeSocket, reason: EndReason): void {
  if (socket.data.ended) return;
  socket.data.ended = true;
  if (socket.data.expiryTimer) clearTimeout(socket.data.expiryTimer);
  for (const room of [...socket.rooms]) if (room !== socket.id) void socket.leave(room);
  socket.emit('session.ended', { reason });
  setTimeout(() => socket.disconnect(true), 50).unref();
}
