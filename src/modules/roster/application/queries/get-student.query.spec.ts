import { beforeEach, describe, expect, it } from 'vitest';
import { RosterAccessDeniedError, RosterStudentNotFoundError } from '../../domain/roster.errors.js';
import type { RosterViewer } from '../roster-access-scope.js';
import type { StudentView } from '../roster-views.js';
import { GetStudentHandler, GetStudentQuery } from './get-student.query.js';
import { InMemoryRosterReadModel } from './roster-read-model.fake.js';

const STUDENT_ID = '0b6e4c1a-7f51-4d0e-9d6c-2f3a4b5c6d7e';
const north = { id: '11111111-1111-4111-8111-111111111111', sourcedId: 'sch-north' };

const student: StudentView = {
  id: STUDENT_ID,
  sourcedId: 'stu-1',
  status: 'active',
  dateLastModified: null,
  givenName: 'José',
  familyName: 'Núñez',
  middleName: null,
  preferredFirstName: null,
  preferredLastName: null,
  pronouns: null,
  identifier: '10042',
  username: null,
  email: null,
  grades: ['09'],
  schools: [{ ...north, name: 'North High' }],
  source: { connectionId: 'c0000000-0000-4000-8000-000000000000', connectionName: 'District SIS' },
};

const as = (roles: RosterViewer['roles'], schoolIds: string[] = [], email = 'x@district.test'): RosterViewer => ({
  roles,
  schoolIds,
  email,
});

describe('GetStudentHandler', () => {
  let roster: InMemoryRosterReadModel;
  let handler: GetStudentHandler;

  beforeEach(() => {
    roster = new InMemoryRosterReadModel();
    handler = new GetStudentHandler(roster);
    roster.students.set(STUDENT_ID, {
      student,
      access: { schools: [north], classes: [{ school: north, teacherEmails: ['ms.rivera@district.test'] }] },
      enrollments: [],
      guardians: [],
      demographics: {
        id: 'd0000000-0000-4000-8000-000000000000',
        sourcedId: 'stu-1',
        status: 'active',
        dateLastModified: null,
        birthDate: '2010-05-04',
        sex: 'male',
        race: {},
        hispanicOrLatino: true,
        countryOfBirthCode: null,
        stateOfBirth: null,
        cityOfBirth: null,
        publicSchoolResidenceStatus: null,
      },
    });
  });

  it('says not found before anything about access', async () => {
    await expect(
      handler.execute(new GetStudentQuery(as([]), '99999999-9999-4999-8999-999999999999')),
    ).rejects.toBeInstanceOf(RosterStudentNotFoundError);
  });

  it('refuses a student outside the scope', async () => {
    const error = await handler
      .execute(new GetStudentQuery(as(['teacher'], [], 'mr.chen@district.test'), STUDENT_ID))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RosterAccessDeniedError);
    expect(error).toMatchObject({ code: 'ROSTER.ACCESS_DENIED' });
  });

  it('gives a teacher of the student the record without demographics, and does not even read them', async () => {
    const detail = await handler.execute(
      new GetStudentQuery(as(['teacher'], [], 'MS.Rivera@district.test'), STUDENT_ID),
    );
    expect(detail.student.familyName).toBe('Núñez');
    expect(detail).not.toHaveProperty('demographics');
    expect(roster.demographicsReads).toEqual([]);
  });

  it('gives the school admin of the student demographics', async () => {
    const detail = await handler.execute(new GetStudentQuery(as(['school_admin'], [north.id]), STUDENT_ID));
    expect(detail.demographics?.birthDate).toBe('2010-05-04');
  });

  it('gives demographics as null when the mirror holds none', async () => {
    roster.students.get(STUDENT_ID)!.demographics = null;
    const detail = await handler.execute(new GetStudentQuery(as(['district_admin']), STUDENT_ID));
    expect(detail.demographics).toBeNull();
  });
});
