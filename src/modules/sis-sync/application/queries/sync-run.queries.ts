import { Query, QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { FindStudentIdsBySourcedIdsQuery, type SourcedStudentReference } from '../../../roster/index.js';
import { SyncRunNotFoundError } from '../../domain/sync-run.errors.js';
import type { RunPreview, SyncRun, SyncRunState } from '../../domain/sync-run.js';
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

/** The roster entities whose records name a student: the person, their demographics, their enrollments. */
const STUDENT_ENTITIES = ['people', 'demographics', 'enrollments'] as const;
type StudentEntity = (typeof STUDENT_ENTITIES)[number];

function isStudentEntity(entity: string): entity is StudentEntity {
  return (STUDENT_ENTITIES as readonly string[]).includes(entity);
}

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

/**
 * The local ids of the students that records of one connection name by (entity, sourcedId), such as a restore's
 * conflicts: people, demographics and enrollments name their student; other entities (and teachers) name no one.
 */
export class FindStudentIdsNamedByRecordsQuery extends Query<string[]> {
  constructor(
    readonly connectionId: string,
    readonly records: readonly { entity: string; sourcedId: string }[],
  ) {
    super();
  }
}

@QueryHandler(FindStudentIdsNamedByRecordsQuery)
export class FindStudentIdsNamedByRecordsHandler implements IQueryHandler<FindStudentIdsNamedByRecordsQuery, string[]> {
  constructor(private readonly queries: QueryBus) {}

  async execute({ connectionId, records }: FindStudentIdsNamedByRecordsQuery): Promise<string[]> {
    const named: SourcedStudentReference[] = [];
    for (const { entity, sourcedId } of records) {
      if (isStudentEntity(entity)) named.push({ entity, sourcedId });
    }
    if (named.length === 0) return [];
    return this.queries.execute(new FindStudentIdsBySourcedIdsQuery(connectionId, named));
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
