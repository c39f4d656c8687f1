import { JobQueue, type DeadLetterJob, type QueueCounts } from '@app/queue';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';

export class ListDeadLetterJobsQuery extends Query<DeadLetterJob[]> {
  constructor(readonly limit: number) {
    super();
  }
}

@QueryHandler(ListDeadLetterJobsQuery)
export class ListDeadLetterJobsHandler implements IQueryHandler<ListDeadLetterJobsQuery> {
  constructor(private readonly queue: JobQueue) {}

  execute(query: ListDeadLetterJobsQuery): Promise<DeadLetterJob[]> {
    return this.queue.listDeadLetters(query.limit);
  }
}

export class GetQueueCountsQuery extends Query<QueueCounts & { backend: string }> {}

@QueryHandler(GetQueueCountsQuery)
export class GetQueueCountsHandler implements IQueryHandler<GetQueueCountsQuery> {
  constructor(private readonly queue: JobQueue) {}

  async execute(): Promise<QueueCounts & { backend: string }> {
    return { backend: this.queue.backend, ...(await this.queue.counts()) };
  }
}
