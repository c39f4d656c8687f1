import { Query, QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { SourcedStudentReference } from '../../../roster/index.js';
import { SyncRunNotFoundError } from '../../domain/sync-run.errors.js';
import type { RunPreview } from '../../domain/sync-run.js';
import { SyncRunRepository } from '../ports/sync-run.repository.js';
import { FindStudentIdsNamedByRecordsQuery, STUDENT_ENTITIES } from './find-student-ids-named-by-records.query.js';

/**
 * The local ids of the students that a run's preview samples or issues name by sourcedId, so that reading them
 * is audited against those students. Records the mirror does not hold (yet) name no one.
 */
export class ListSyncRunStudentIdsQuery extends Query<string[]> {
  constructor(
    readonly runId: string,
    readonly part: 'preview' | 'issues',
  ) {
    super();
  }
}

@QueryHandler(ListSyncRunStudentIdsQuery)
export class ListSyncRunStudentIdsHandler implements IQueryHandler<ListSyncRunStudentIdsQuery, string[]> {
  constructor(
    private readonly runs: SyncRunRepository,
    private readonly queries: QueryBus,
  ) {}

  async execute({ runId, part }: ListSyncRunStudentIdsQuery): Promise<string[]> {
    const run = await this.runs.findById(runId);
    if (!run) throw new SyncRunNotFoundError(runId);
    const named =
      part === 'preview' ? previewReferences(run.preview) : await this.runs.listIssueRecords(run.id, STUDENT_ENTITIES);
    return this.queries.execute(new FindStudentIdsNamedByRecordsQuery(run.connectionId, named));
  }
}

function previewReferences(preview: RunPreview | null): SourcedStudentReference[] {
  const named: SourcedStudentReference[] = [];
  for (const entity of STUDENT_ENTITIES) {
    for (const sourcedIds of Object.values(preview?.[entity]?.samples ?? {})) {
      for (const sourcedId of sourcedIds) named.push({ entity, sourcedId });
    }
  }
  return named;
}
