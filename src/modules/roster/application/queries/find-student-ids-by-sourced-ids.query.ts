import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { RosterReadModel, type SourcedStudentReference } from '../ports/roster-read-model.port.js';

/**
 * The local ids of the students a sync run's records name (people, demographics, enrollments of one SIS
 * connection, by sourcedId), so that reading those records can be audited against the students. No access
 * scope is applied; records not in the mirror (yet) name no one.
 */
export class FindStudentIdsBySourcedIdsQuery extends Query<string[]> {
  constructor(
    readonly connectionId: string,
    readonly named: readonly SourcedStudentReference[],
  ) {
    super();
  }
}

@QueryHandler(FindStudentIdsBySourcedIdsQuery)
export class FindStudentIdsBySourcedIdsHandler implements IQueryHandler<FindStudentIdsBySourcedIdsQuery> {
  constructor(private readonly roster: RosterReadModel) {}

  execute({ connectionId, named }: FindStudentIdsBySourcedIdsQuery): Promise<string[]> {
    return this.roster.findStudentIdsBySourcedIds(connectionId, named);
  }
}
