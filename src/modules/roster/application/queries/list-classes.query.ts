import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { RosterReadModel, type ClassPosition } from '../ports/roster-read-model.port.js';
import { rosterAccessScope, type RosterViewer } from '../roster-access-scope.js';
import {
  assertPageSize,
  CURSOR_FIELD_PATTERNS,
  DEFAULT_PAGE_SIZE,
  PageCursorCodec,
  toPage,
} from '../roster-page-cursor.js';
import type { ClassView, Page } from '../roster-views.js';

export interface ListClassesOptions {
  /** Local id of a school; a school outside the viewer's scope simply yields nothing. */
  schoolId?: string;
  /** Id of a SIS connection; an unknown one simply yields nothing. */
  connectionId?: string;
  limit?: number;
  cursor?: string;
}

/** Active classes the viewer may see, by title. */
export class ListClassesQuery extends Query<Page<ClassView>> {
  constructor(
    readonly viewer: RosterViewer,
    readonly options: ListClassesOptions = {},
  ) {
    super();
  }
}

const classesCursor = new PageCursorCodec<ClassPosition>('classes', ['title', 'id'], { id: CURSOR_FIELD_PATTERNS.id });

@QueryHandler(ListClassesQuery)
export class ListClassesHandler implements IQueryHandler<ListClassesQuery> {
  constructor(private readonly roster: RosterReadModel) {}

  async execute({ viewer, options }: ListClassesQuery): Promise<Page<ClassView>> {
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    assertPageSize(limit);
    const after = classesCursor.decode(options.cursor);
    const rows = await this.roster.listClasses(
      rosterAccessScope(viewer),
      { schoolId: options.schoolId, connectionId: options.connectionId },
      after,
      limit + 1,
    );
    return toPage(rows, limit, (row) => classesCursor.encode({ title: row.title, id: row.id }));
  }
}
