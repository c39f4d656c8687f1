import { Injectable } from '@nestjs/common';
import type { AuthenticatedUser } from '../../../identity/index.js';
import { RoomPolicyProvider, type RoomPolicy } from '../../../realtime/index.js';

const SIS_OPERATORS = new Set(['district_admin', 'sis_operator']);

/** `sis-ops`: every run's state and progress, for SIS operators and district administrators. */
@Injectable()
@RoomPolicyProvider()
export class SisOpsRoomPolicy implements RoomPolicy {
  readonly prefix = 'sis-ops';

  canJoin(user: AuthenticatedUser, roomId: string | undefined): boolean {
    return roomId === undefined && user.roles.some((role) => SIS_OPERATORS.has(role));
  }
}

/** `sync-run:<id>`: one run's state and progress, for the same roles. */
@Injectable()
@RoomPolicyProvider()
export class SyncRunRoomPolicy implements RoomPolicy {
  readonly prefix = 'sync-run';

  canJoin(user: AuthenticatedUser, roomId: string | undefined): boolean {
    return roomId !== undefined && user.roles.some((role) => SIS_OPERATORS.has(role));
  }
}
