import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { SyncRun, SyncRunState } from '../../domain/sync-run.js';
import { SyncRunRepository, type Page } from '../ports/sync-run.repository.js';

export class ListSyncRunsQuery extends Query<Page<SyncRun>> {
  constructor(
    readonly limit: number,
    readonly cursor: string | undefined,
    readonly connectionId?: string,
    readonly state?: SyncRunState,
  ) {
    super();
  }
}

@QueryHandler(ListSyncRunsQuery)
export class ListSyncRunsHandler implements IQueryHandler<ListSyncRunsQuery, Page<SyncRun>> {
  constructor(private readonly runs: SyncRunRepository) {}

  execute(query: ListSyncRunsQuery): Promise<Page<SyncRun>> {
    return this.runs.list({ connectionId: query.connectionId, state: query.state }, query.limit, query.cursor);
  }
}
