import { beforeEach, describe, expect, it } from 'vitest';
import { RosterAccessDeniedError, RosterPersonNotFoundError } from '../../domain/roster.errors.js';
import type { RosterViewer } from '../roster-access-scope.js';
import type { StaffView } from '../roster-views.js';
import { GetStaffHandler, GetStaffQuery } from './get-staff.query.js';
import { InMemoryRosterReadModel } from './roster-read-model.fake.js';

const STAFF_ID = '5a6e4c1a-7f51-4d0e-9d6c-2f3a4b5c6d7e';
const north = { id: '11111111-1111-4111-8111-111111111111', sourcedId: 'sch-north' };
const south = { id: '22222222-2222-4222-8222-222222222222', sourcedId: 'sch-south' };

const rivera: StaffView = {
  id: STAFF_ID,
  sourcedId: 'tch-rivera',
  status: 'active',
  dateLastModified: null,
  givenName: 'Elena',
  familyName: 'Rivera',
  middleName: null,
  preferredFirstName: null,
  preferredLastName: null,
  identifier: null,
  username: null,
  email: 'Ms.Rivera@District.TEST',
  role: 'teacher',
  roles: ['teacher'],
  schools: [],
  source: { connectionId: 'c0000000-0000-4000-8000-000000000000', connectionName: 'District SIS' },
};

const as = (roles: RosterViewer['roles'], schoolIds: string[] = [], email = 'x@district.test'): RosterViewer => ({
  roles,
  schoolIds,
  email,
});

describe('GetStaffHandler', () => {
  let roster: InMemoryRosterReadModel;
  let handler: GetStaffHandler;

  beforeEach(() => {
    roster = new InMemoryRosterReadModel();
    handler = new GetStaffHandler(roster);
    // Listed in no org: in North High's staff through a class she teaches there.
    roster.staff.set(STAFF_ID, { staff: rivera, access: { schools: [north], email: rivera.email } });
  });

  it('says not found (ROSTER.PERSON_NOT_FOUND) before anything about access', async () => {
    const error = await handler
      .execute(new GetStaffQuery(as([]), '99999999-9999-4999-8999-999999999999'))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RosterPersonNotFoundError);
    expect(error).toMatchObject({ code: 'ROSTER.PERSON_NOT_FOUND' });
  });

  it.each<[string, RosterViewer]>([
    ['a district role', as(['sis_operator'])],
    ['the admin of a school she works in', as(['school_admin'], [north.id])],
    ['herself, whatever the case of the email', as(['teacher'], [], 'ms.rivera@district.test')],
  ])('shows the record to %s', async (_who, viewer) => {
    expect(await handler.execute(new GetStaffQuery(viewer, STAFF_ID))).toBe(rivera);
  });

  it.each<[string, RosterViewer]>([
    ['the admin of another school', as(['school_admin'], [south.id])],
    ['another teacher, even of her school', as(['teacher'], [north.id], 'mr.chen@district.test')],
    ['a user without roster roles', as([], [north.id], 'ms.rivera@district.test')],
  ])('refuses %s with ROSTER.ACCESS_DENIED', async (_who, viewer) => {
    const error = await handler.execute(new GetStaffQuery(viewer, STAFF_ID)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RosterAccessDeniedError);
    expect(error).toMatchObject({ code: 'ROSTER.ACCESS_DENIED', message: 'You may not see this staff member' });
  });
});
