import { Query, QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { FindStudentIdsBySourcedIdsQuery, type SourcedStudentReference } from '../../../roster/index.js';

/** The roster entities whose records name a student: the person, their demographics, their enrollments. */
export const STUDENT_ENTITIES = ['people', 'demographics', 'enrollments'] as const;
type StudentEntity = (typeof STUDENT_ENTITIES)[number];

function isStudentEntity(entity: string): entity is StudentEntity {
  return (STUDENT_ENTITIES as readonly string[]).includes(entity);
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
