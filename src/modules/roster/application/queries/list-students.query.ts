import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { RosterReadModel } from '../ports/roster-read-model.port.js';
import { rosterAccessScope, type RosterViewer } from '../roster-access-scope.js';
import { assertPageSize, DEFAULT_PAGE_SIZE } from '../roster-page-cursor.js';
import type { Page, StudentView } from '../roster-views.js';
import { PersonPages, type PersonListOptions } from './person-pages.js';

export type ListStudentsOptions = PersonListOptions;

/** Active people holding the student role that the viewer may see: by name, or best matches first when searching. */
export class ListStudentsQuery extends Query<Page<StudentView>> {
  constructor(
    readonly viewer: RosterViewer,
    readonly options: ListStudentsOptions = {},
  ) {
    super();
  }
}

const pages = new PersonPages('students', 'student-search');

@QueryHandler(ListStudentsQuery)
export class ListStudentsHandler implements IQueryHandler<ListStudentsQuery> {
  constructor(private readonly roster: RosterReadModel) {}

  async execute({ viewer, options }: ListStudentsQuery): Promise<Page<StudentView>> {
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    assertPageSize(limit);
    const scope = rosterAccessScope(viewer);
    const filter = { schoolId: options.schoolId, connectionId: options.connectionId };
    return pages.read(options, limit, {
      byName: (after, size) => this.roster.listStudents(scope, filter, after, size),
      bySearch: (search, after, size) => this.roster.searchStudents(scope, search, filter, after, size),
      person: (ranked) => ranked.student,
    });
  }
}
