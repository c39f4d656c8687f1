import type { RealtimeEventName, RealtimeEventPayload } from '@app/contracts';

/** Whose connections to end: one session's (a sign-in), or every session of one user. */
export type ConnectionTarget = { sessionId: string } | { userId: string };

/**
 * Pushes catalogued events to socket.io rooms. Call it after the change commits; with Redis the event
 * reaches clients connected to any API process.
 */
export abstract class RealtimePublisher {
  /**
   * Sends the event to everyone in any of `rooms`, once per socket: publish to several rooms in one call, never
   * once per room, or a socket in two of them hears the event twice.
   */
  abstract publish<N extends RealtimeEventName>(
    rooms: string | readonly string[],
    event: N,
    payload: RealtimeEventPayload<N>,
  ): void;

  /**
   * Tells the target's sockets their session ended, takes them out of every room and disconnects them, on every
   * process. Sockets are found by the identity the server recorded when it admitted them, never by a room.
   */
  abstract endConnections(target: ConnectionTarget, reason: RealtimeEventPayload<'session.ended'>['reason']): void;
}
