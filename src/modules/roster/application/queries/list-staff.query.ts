import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { StaffRole } from '../../domain/staff-roles.js';
import { RosterReadModel } from '../ports/roster-read-model.port.js';
import { rosterAccessScope, type RosterViewer } from '../roster-access-scope.js';
import { assertPageSize, DEFAULT_PAGE_SIZE } from '../roster-page-cursor.js';
import type { Page, StaffView } from '../roster-views.js';
import { PersonPages, type PersonListOptions } from './person-pages.js';

export interface ListStaffOptions extends PersonListOptions {
  role?: StaffRole;
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

const pages = new PersonPages('staff', 'staff-search');

@QueryHandler(ListStaffQuery)
export class ListStaffHandler implements IQueryHandler<ListStaffQuery> {
  constructor(private readonly roster: RosterReadModel) {}

  async execute({ viewer, options }: ListStaffQuery): Promise<Page<StaffView>> {
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    assertPageSize(limit);
    const scope = rosterAccessScope(viewer);
    const filter = { schoolId: options.schoolId, connectionId: options.connectionId, role: options.role };
    return pages.read(options, limit, {
      byName: (after, size) => this.roster.listStaff(scope, filter, after, size),
      bySearch: (search, after, size) => this.roster.searchStaff(scope, search, filter, after, size),
      person: (ranked) => ranked.staff,
    });
  }
}
