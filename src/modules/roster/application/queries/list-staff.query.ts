import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { normaliseSearchQuery } from '../../domain/person-search-text.js';
import { InvalidRosterCursorError } from '../../domain/roster.errors.js';
import type { StaffRole } from '../../domain/staff-roles.js';
import { RosterReadModel, type RankedStudentPosition, type StudentPosition } from '../ports/roster-read-model.port.js';
import { rosterAccessScope, type RosterViewer } from '../roster-access-scope.js';
import {
  assertPageSize,
  CURSOR_FIELD_PATTERNS,
  DEFAULT_PAGE_SIZE,
  PageCursorCodec,
  toPage,
} from '../roster-page-cursor.js';
import type { Page, StaffView } from '../roster-views.js';

export interface ListStaffOptions {
  /** Free text over names, identifier, username and email; tolerant of typos and accents. */
  search?: string;
  /** Local id of a school; a school outside the viewer's scope simply yields nothing. */
  schoolId?: string;
  /** Id of a SIS connection; an unknown one simply yields nothing. */
  connectionId?: string;
  role?: StaffRole;
  limit?: number;
  cursor?: string;
}

/** Active staff (`STAFF_ROLES`, never students) that the viewer may see: by name, or best matches first. */
export class ListStaffQuery extends Query<Page<StaffView>> {
  constructor(
    readonly viewer: RosterViewer,
    readonly options: ListStaffOptions = {},
  ) {
    super();
  }
}

const byNameCursor = new PageCursorCodec<StudentPosition>('staff', ['familyName', 'givenName', 'id'], {
  id: CURSOR_FIELD_PATTERNS.id,
});

/** The search text rides along so that a cursor cannot be replayed against a different search. */
const bySearchCursor = new PageCursorCodec<RankedStudentPosition & { search: string }>(
  'staff-search',
  ['search', 'score', 'familyName', 'givenName', 'id'],
  { id: CURSOR_FIELD_PATTERNS.id, score: CURSOR_FIELD_PATTERNS.score },
);

@QueryHandler(ListStaffQuery)
export class ListStaffHandler implements IQueryHandler<ListStaffQuery> {
  constructor(private readonly roster: RosterReadModel) {}

  async execute({ viewer, options }: ListStaffQuery): Promise<Page<StaffView>> {
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    assertPageSize(limit);
    const scope = rosterAccessScope(viewer);
    const filter = { schoolId: options.schoolId, connectionId: options.connectionId, role: options.role };
    const search = normaliseSearchQuery(options.search ?? '');
    if (search === '') {
      const after = byNameCursor.decode(options.cursor);
      const rows = await this.roster.listStaff(scope, filter, after, limit + 1);
      return toPage(rows, limit, ({ familyName, givenName, id }) => byNameCursor.encode({ familyName, givenName, id }));
    }
    const after = bySearchCursor.decode(options.cursor);
    if (after && after.search !== search) throw new InvalidRosterCursorError();
    const rows = await this.roster.searchStaff(scope, search, filter, after, limit + 1);
    const page = toPage(rows, limit, ({ score, staff }) =>
      bySearchCursor.encode({ search, score, familyName: staff.familyName, givenName: staff.givenName, id: staff.id }),
    );
    return { items: page.items.map((ranked) => ranked.staff), nextCursor: page.nextCursor };
  }
}
