import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { RosterAccessDeniedError, RosterClassNotFoundError } from '../../domain/roster.errors.js';
import { RosterReadModel } from '../ports/roster-read-model.port.js';
import { rosterAccessScope, scopeCoversClass, type RosterViewer } from '../roster-access-scope.js';
import type { ClassRosterView } from '../roster-views.js';

/** An active class with its active enrollments and their people, teachers first. */
export class GetClassRosterQuery extends Query<ClassRosterView> {
  constructor(
    readonly viewer: RosterViewer,
    readonly classId: string,
  ) {
    super();
  }
}

@QueryHandler(GetClassRosterQuery)
export class GetClassRosterHandler implements IQueryHandler<GetClassRosterQuery> {
  constructor(private readonly roster: RosterReadModel) {}

  async execute({ viewer, classId }: GetClassRosterQuery): Promise<ClassRosterView> {
    const found = await this.roster.findClass(classId);
    if (!found) throw new RosterClassNotFoundError(classId);
    if (!scopeCoversClass(rosterAccessScope(viewer), found.access)) throw new RosterAccessDeniedError('class', classId);
    return { class: found.class, members: await this.roster.listClassMembers(classId) };
  }
}
