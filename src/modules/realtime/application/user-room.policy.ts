import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../../identity/index.js';
import { RoomPolicyProvider, type RoomPolicy } from './room-policy.js';

/** `user:<id>`: notifications for one person, joined only by that person. */
@Injectable()
@RoomPolicyProvider()
export class UserRoomPolicy implements RoomPolicy {
  readonly prefix = 'user';

  canJoin(user: AuthenticatedUser, roomId: string | undefined): boolean {
    return roomId === user.id;
  }
}
