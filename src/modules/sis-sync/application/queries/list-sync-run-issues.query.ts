import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { SyncRunNotFoundError } from '../../domain/sync-run.errors.js';
import { SyncRunRepository, type StoredRunIssue } from '../ports/sync-run.repository.js';

export class ListSyncRunIssuesQuery extends Query<StoredRunIssue[]> {
  constructor(
    readonly runId: string,
    readonly limit: number,
    readonly afterId: number,
  ) {
    super();
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
