import type { RealtimeEventName, RealtimeEventPayload } from '@app/contracts';

/**
 * Pushes catalogued events to socket.io rooms. Call it after the change commits; with Redis the event
 * reaches clients connected to any API process.
 */
export abstract class RealtimePublisher {
  abstract publish<N extends RealtimeEventName>(room: string, event: N, payload: RealtimeEventPayload<N>): void;

  /** Tells the room's sockets their session ended, then disconnects them (on every process). */
  abstract endConnections(room: string, reason: RealtimeEventPayload<'session.ended'>['reason']): void;
}
