import type { RealtimeEventName, RealtimeEventPayload } from '@app/contracts';
import { SetMetadata } from '@nestjs/common';
import type { AuthenticatedUser } from '../../identity/index.js';

/** One catalogued event, as a room sends it to a socket that just joined. */
export type RoomEvent = { [N in RealtimeEventName]: { event: N; payload: RealtimeEventPayload<N> } }[RealtimeEventName];

/**
 * Who may join rooms named `<prefix>:<id>` (or exactly `<prefix>` for a room without id). The module that
 * owns the data behind a room provides its policy; a room with no policy cannot be joined.
 */
export interface RoomPolicy {
  readonly prefix: string;
  canJoin(user: AuthenticatedUser, roomId: string | undefined): Promise<boolean> | boolean;
  /**
   * What a socket that was just allowed in receives before the join's ack: the room's current state, for the
   * events it missed before joining. Called only after `canJoin` allowed the join.
   */
  currentState?(roomId: string | undefined): Promise<readonly RoomEvent[]>;
}

export const ROOM_POLICY = 'homeroom:room-policy';

/** Marks a provider as a room policy; the registry finds it at boot. */
export const RoomPolicyProvider = (): ClassDecorator => SetMetadata(ROOM_POLICY, true);

const ROOM_NAME = /^([a-z][a-z0-9-]{0,39})(?::([A-Za-z0-9_-]{1,100}))?$/;

export function parseRoom(room: unknown): { prefix: string; id: string | undefined } | undefined {
  if (typeof room !== 'string') return undefined;
  const match = ROOM_NAME.exec(room);
  if (!match) return undefined;
  return { prefix: match[1], id: match[2] };
}
