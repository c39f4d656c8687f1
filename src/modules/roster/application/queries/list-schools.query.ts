import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { RosterReadModel, type SchoolPosition } from '../ports/roster-read-model.port.js';
import { rosterAccessScope, type RosterViewer } from '../roster-access-scope.js';
import {
  assertPageSize,
  CURSOR_FIELD_PATTERNS,
  DEFAULT_PAGE_SIZE,
  PageCursorCodec,
  toPage,
} from '../roster-page-cursor.js';
import type { Page, SchoolView } from '../roster-views.js';

export interface ListSchoolsOptions {
  limit?: number;
  cursor?: string;
}

/** Active schools the viewer may see (a teacher: the schools of their classes), by name. */
export class ListSchoolsQuery extends Query<Page<SchoolView>> {
  constructor(
    readonly viewer: RosterViewer,
    readonly options: ListSchoolsOptions = {},
  ) {
    super();
  }
}

const schoolsCursor = new PageCursorCodec<SchoolPosition>('schools', ['name', 'id'], { id: CURSOR_FIELD_PATTERNS.id });

@QueryHandler(ListSchoolsQuery)
export class ListSchoolsHandler implements IQueryHandler<ListSchoolsQuery> {
  constructor(private readonly roster: RosterReadModel) {}

  async execute({ viewer, options }: ListSchoolsQuery): Promise<Page<SchoolView>> {
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    assertPageSize(limit);
    const after = schoolsCursor.decode(options.cursor);
    const rows = await this.roster.listSchools(rosterAccessScope(viewer), after, limit + 1);
    return toPage(rows, limit, (school) => schoolsCursor.encode({ name: school.name, id: school.id }));
  }
}
