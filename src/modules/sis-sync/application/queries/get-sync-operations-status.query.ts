import { GetSyncOperationsStatusQuery, type SyncOperationsStatus } from '@app/contracts';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ConnectionHealthRepository } from '../ports/connection-health.repository.js';

/** Last successes, failure streaks and active runs for the operational metrics (the query is in @app/contracts). */
@QueryHandler(GetSyncOperationsStatusQuery)
export class GetSyncOperationsStatusHandler implements IQueryHandler<
  GetSyncOperationsStatusQuery,
  SyncOperationsStatus
> {
  constructor(private readonly health: ConnectionHealthRepository) {}

  execute(): Promise<SyncOperationsStatus> {
    return this.health.operationsStatus();
  }
}
