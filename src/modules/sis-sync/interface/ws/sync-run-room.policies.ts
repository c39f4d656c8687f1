import { Clock } from '@app/ddd';
import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { AuthenticatedUser } from '../../../identity/index.js';
import { RoomPolicyProvider, type RoomEvent, type RoomPolicy } from '../../../realtime/index.js';
import { GetSyncRunQuery } from '../../application/queries/get-sync-run.query.js';
import { runStatePayload } from '../../application/services/sync-run.broadcaster.js';
import { SyncRunNotFoundError } from '../../domain/sync-run.errors.js';

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

/**
 * `sync-run:<id>`: one run's state and progress, for the same roles. A socket that joins gets the run's state at
 * once: its `queued` and `running` went out before the 202 that told the client the run id.
 */
@Injectable()
@RoomPolicyProvider()
export class SyncRunRoomPolicy implements RoomPolicy {
  readonly prefix = 'sync-run';

  constructor(
    private readonly queries: QueryBus,
    private readonly clock: Clock,
  ) {}

  canJoin(user: AuthenticatedUser, roomId: string | undefined): boolean {
    return roomId !== undefined && user.roles.some((role) => SIS_OPERATORS.has(role));
  }

  async currentState(roomId: string | undefined): Promise<readonly RoomEvent[]> {
    if (roomId === undefined) return [];
    try {
      const run = await this.queries.execute(new GetSyncRunQuery(roomId));
      return [{ event: 'sis-sync.run-state', payload: runStatePayload(run, this.clock.now()) }];
    } catch (error) {
      // A room for a run that does not exist (yet, or any more) has no state to send.
      if (error instanceof SyncRunNotFoundError) return [];
      throw error;
    }
  }
}
