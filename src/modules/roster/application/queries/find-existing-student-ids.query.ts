import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { RosterReadModel } from '../ports/roster-read-model.port.js';

/**
 * Which of these ids name a student of the roster mirror, in any status: other modules check references to
 * students with it (an audit disclosure record must name students whose record exists). No access scope is
 * applied, so callers must be entitled to district-wide facts.
 */
export class FindExistingStudentIdsQuery extends Query<string[]> {
  constructor(readonly studentIds: readonly string[]) {
    super();
  }
}

@QueryHandler(FindExistingStudentIdsQuery)
export class FindExistingStudentIdsHandler implements IQueryHandler<FindExistingStudentIdsQuery> {
  constructor(private readonly roster: RosterReadModel) {}

  execute({ studentIds }: FindExistingStudentIdsQuery): Promise<string[]> {
    return this.roster.findExistingStudentIds(studentIds);
  }
}
