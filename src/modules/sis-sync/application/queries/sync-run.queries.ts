import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { SyncRunNotFoundError } from '../../domain/sync-run.errors.js';
import type { SyncRun, SyncRunState } from '../../domain/sync-run.js';
import { SyncRunRepository, type Page, type StoredRunIssue } from '../ports/sync-run.repository.js';

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

export class GetSyncRunQuery extends Query<SyncRun> {
  constructor(readonly runId: string) {
    super();
  }
}

export class ListSyncRunIssuesQuery extends Query<StoredRunIssue[]> {
  constructor(
    readonly runId: string,
    readonly limit: number,
    readonly afterId: number,
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

@QueryHandler(GetSyncRunQuery)
export class GetSyncRunHandler implements IQueryHandler<GetSyncRunQuery, SyncRun> {
  constructor(private readonly runs: SyncRunRepository) {}

  async execute({ runId }: GetSyncRunQuery): Promise<SyncRun> {
    const run = await this.runs.findById(runId);
    if (!run) throw new SyncRunNotFoundError(runId);
    return run;
  }
}

@QueryHandler(ListSyncRunIssuesQuery)
export class ListSyncRunIssuesHandler implements IQueryHandler<ListSyncRunIssuesQuery, StoredRunIssue[]> {
  constructor(private readonly runs: SyncRunRepository) {}

  async execute({ runId, limit, afterId }: ListSyncRunIssuesQuery): Promise<StoredRunIssue[]> {
    const run = await this.runs.findById(runId);
    if (!run) throw new SyncRunNotFoundError(runId);
    return this.runs.listIssues(run.id, limit, afterId);
  }
}
