import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { SyncRunNotFoundError } from '../../domain/sync-run.errors.js';
import type { SyncRun } from '../../domain/sync-run.js';
import { SyncRunRepository } from '../ports/sync-run.repository.js';

export class GetSyncRunQuery extends Query<SyncRun> {
  constructor(readonly runId: string) {
    super();
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
