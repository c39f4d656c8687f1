import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { RosterAccessDeniedError, RosterPersonNotFoundError } from '../../domain/roster.errors.js';
import { RosterReadModel } from '../ports/roster-read-model.port.js';
import { rosterAccessScope, scopeCoversStaff, type RosterViewer } from '../roster-access-scope.js';
import type { StaffView } from '../roster-views.js';

/** An active staff member (`STAFF_ROLES`, never a student), if within the viewer's scope. */
export class GetStaffQuery extends Query<StaffView> {
  constructor(
    readonly viewer: RosterViewer,
    readonly staffId: string,
  ) {
    super();
  }
}

@QueryHandler(GetStaffQuery)
export class GetStaffHandler implements IQueryHandler<GetStaffQuery> {
  constructor(private readonly roster: RosterReadModel) {}

  async execute({ viewer, staffId }: GetStaffQuery): Promise<StaffView> {
    const found = await this.roster.findStaff(staffId);
    if (!found) throw new RosterPersonNotFoundError('staff', staffId);
    if (!scopeCoversStaff(rosterAccessScope(viewer), found.access)) {
      throw new RosterAccessDeniedError('staff', staffId);
    }
    return found.staff;
  }
}
