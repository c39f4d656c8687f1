import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { RosterReadModel } from '../ports/roster-read-model.port.js';
import type { SchoolReference } from '../roster-access-scope.js';

/**
 * The active schools (local id and sourcedId) of each active student among the ids, by the same membership
 * rules as the access scope. Students who are not active, or unknown, are absent from the map. No access
 * scope is applied, so callers must be entitled to district-wide facts.
 */
export class FindStudentSchoolsQuery extends Query<Map<string, SchoolReference[]>> {
  constructor(readonly studentIds: readonly string[]) {
    super();
  }
}

@QueryHandler(FindStudentSchoolsQuery)
export class FindStudentSchoolsHandler implements IQueryHandler<FindStudentSchoolsQuery> {
  constructor(private readonly roster: RosterReadModel) {}

  execute({ studentIds }: FindStudentSchoolsQuery): Promise<Map<string, SchoolReference[]>> {
    return this.roster.findStudentSchools(studentIds);
  }
}
