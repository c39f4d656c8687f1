import { describe, expect, it } from 'vitest';
import { ONEROSTER_CSV_COLUMNS } from './oneroster-csv.columns.js';
import { normaliseCsvRole, normaliseCsvRow, normaliseRestRecord } from './oneroster-normalise.js';
import { OneRosterSchoolScope } from './oneroster-school-scope.js';
import { calendarDateOf, instantOf, schoolYearOf, userIdsOf } from './oneroster-values.js';

function ok<T>(result: { ok: true; record: T } | { ok: false; issue: unknown }): T {
  if (!result.ok) throw new Error(`expected a record, got ${JSON.stringify(result.issue)}`);
  return result.record;
}

/** A CSV row with every column of the file, blanks unless given. */
function csvRow(
  version: '1.1' | '1.2',
  file: 'users' | 'classes' | 'enrollments' | 'academicSessions',
  values: Record<string, string>,
) {
  const row: Record<string, string> = {};
  for (const column of ONEROSTER_CSV_COLUMNS[version][file]!) row[column] = '';
  return { ...row, ...values };
}

describe('value parsing', () => {
  it('keeps calendar dates as written, tolerating legacy m/d/yyyy', () => {
    expect(calendarDateOf('2024-08-15')).toBe('2024-08-15');
    expect(calendarDateOf('2024-08-15T23:30:00-07:00')).toBe('2024-08-15');
    expect(calendarDateOf('8/5/2024')).toBe('2024-08-05');
    expect(calendarDateOf('12/31/09')).toBe('2009-12-31');
    expect(calendarDateOf('1/2/87')).toBe('1987-01-02');
    expect(calendarDateOf('')).toBeNull();
    expect(calendarDateOf('2023-02-29')).toBeUndefined();
    expect(calendarDateOf('13/01/2024')).toBeUndefined();
    expect(calendarDateOf('yesterday')).toBeUndefined();
  });

  it('normalises date-times to UTC ISO with milliseconds', () => {
    expect(instantOf('2024-08-15T10:20:30Z')).toBe('2024-08-15T10:20:30.000Z');
    expect(instantOf('2024-08-15T10:20:30.1234567Z')).toBe('2024-08-15T10:20:30.123Z');
    expect(instantOf('2024-08-15T10:20:30+02:00')).toBe('2024-08-15T08:20:30.000Z');
    expect(instantOf('2024-08-15T10:20:30-0530')).toBe('2024-08-15T15:50:30.000Z');
    expect(instantOf('2024-08-15 10:20')).toBe('2024-08-15T10:20:00.000Z');
    expect(instantOf('2024-08-15')).toBe('2024-08-15T00:00:00.000Z');
    expect(instantOf('2024-08-15T25:00:00Z')).toBeUndefined();
    expect(instantOf('')).toBeNull();
  });

  it('reads schoolYear as the ending year', () => {
    expect(schoolYearOf('2024')).toBe(2024);
    expect(schoolYearOf(2024)).toBe(2024);
    expect(schoolYearOf('2023-24')).toBe(2024);
    expect(schoolYearOf('2023-2024')).toBe(2024);
    expect(schoolYearOf('1999-00')).toBe(2000);
    expect(schoolYearOf('2023-2025')).toBeUndefined();
  });

  it('reads CSV userIds', () => {
    expect(userIdsOf('{LDAP:jdoe},{SIS:12345}')).toEqual([
      { type: 'LDAP', identifier: 'jdoe' },
      { type: 'SIS', identifier: '12345' },
    ]);
    expect(userIdsOf('')).toEqual([]);
    expect(userIdsOf('LDAP=jdoe')).toBeUndefined();
  });
});

describe('normaliseRestRecord', () => {
  it('turns a 1.1 user (one role, orgs[]) into a person with primary memberships', () => {
    const person = ok(
      normaliseRestRecord(
        'people',
        {
          sourcedId: 's-100',
          status: 'active',
          dateLastModified: '2026-01-05T10:00:00Z',
          username: 'jdoe',
          userIds: [{ type: 'LDAP', identifier: 'jdoe@district' }],
          enabledUser: 'true',
          givenName: 'Jane',
          familyName: 'Doe',
          middleName: '',
          role: 'student',
          identifier: '100234',
          email: 'jdoe@example.org',
          sms: '',
          phone: '',
          agents: [{ href: 'https://sis/users/g-1', sourcedId: 'g-1', type: 'user' }],
          orgs: [
            { href: 'https://sis/orgs/sch-1', sourcedId: 'sch-1', type: 'org' },
            { sourcedId: 'sch-2', type: 'org' },
          ],
          grades: ['09'],
          password: 'hunter2',
          metadata: { 'ic.legacysourceId': '100' },
          vendorExtra: 'kept',
        },
        '1.1',
      ),
    );
    expect(person).toEqual({
      sourcedId: 's-100',
      status: 'active',
      dateLastModified: '2026-01-05T10:00:00.000Z',
      metadata: { 'ic.legacysourceId': '100', vendorExtra: 'kept' },
      givenName: 'Jane',
      familyName: 'Doe',
      middleName: null,
      preferredFirstName: null,
      preferredLastName: null,
      pronouns: null,
      username: 'jdoe',
      email: 'jdoe@example.org',
      identifier: '100234',
      enabled: true,
      roles: [
        { role: 'student', roleType: 'primary', orgSourcedId: 'sch-1', beginDate: null, endDate: null },
        { role: 'student', roleType: 'primary', orgSourcedId: 'sch-2', beginDate: null, endDate: null },
      ],
      primaryRole: 'student',
      orgSourcedIds: ['sch-1', 'sch-2'],
      primaryOrgSourcedId: 'sch-1',
      grades: ['09'],
      agentSourcedIds: ['g-1'],
      userIds: [{ type: 'LDAP', identifier: 'jdoe@district' }],
      phone: null,
      sms: null,
      sourceAliases: [],
    });
    expect(JSON.stringify(person)).not.toContain('hunter2');
  });

  it('turns a 1.2 user (roles[], preferredFirstName, primaryOrg) into a person', () => {
    const person = ok(
      normaliseRestRecord(
        'people',
        {
          sourcedId: 'p-7',
          status: 'active',
          dateLastModified: '2026-01-05T10:00:00.000Z',
          userMasterIdentifier: 'M-7',
          enabledUser: true,
          givenName: 'Robert',
          familyName: 'Smith',
          preferredFirstName: 'Bob',
          preferredMiddleName: 'J',
          preferredLastName: 'Smyth',
          pronouns: 'he/him',
          roles: [
            { roleType: 'secondary', role: 'teacher', org: { sourcedId: 'sch-2' } },
            { roleType: 'primary', role: 'principal', org: { sourcedId: 'sch-1' }, beginDate: '2025-07-01' },
          ],
          primaryOrg: { sourcedId: 'sch-1' },
          userProfiles: [{ profileId: 'x', credentials: [{ password: 'secret' }] }],
        },
        '1.2',
      ),
    );
    expect(person).toMatchObject({
      preferredFirstName: 'Bob',
      preferredLastName: 'Smyth',
      pronouns: 'he/him',
      username: null,
      enabled: true,
      primaryRole: 'principal',
      orgSourcedIds: ['sch-2', 'sch-1'],
      primaryOrgSourcedId: 'sch-1',
      roles: [
        { role: 'teacher', roleType: 'secondary', orgSourcedId: 'sch-2', beginDate: null, endDate: null },
        { role: 'principal', roleType: 'primary', orgSourcedId: 'sch-1', beginDate: '2025-07-01', endDate: null },
      ],
      metadata: { userMasterIdentifier: 'M-7', preferredMiddleName: 'J' },
    });
    expect(JSON.stringify(person)).not.toContain('secret');
  });

  it('resolves GUIDRefs on classes and keeps subjectCodes in metadata', () => {
    const record = ok(
      normaliseRestRecord(
        'classes',
        {
          sourcedId: 'c-1',
          status: 'active',
          dateLastModified: '2026-01-05T10:00:00Z',
          title: 'Algebra I - P1',
          classCode: 'ALG1-1',
          classType: 'scheduled',
          location: 'Room 12',
          grades: ['09', '10'],
          subjects: ['Math'],
          subjectCodes: ['MA-1'],
          periods: ['1'],
          course: { href: 'x', sourcedId: 'crs-1', type: 'course' },
          school: { sourcedId: 'sch-1', type: 'org' },
          terms: [{ sourcedId: 't-1' }, { sourcedId: 't-2' }],
          resources: [{ sourcedId: 'r-1' }],
        },
        '1.1',
      ),
    );
    expect(record).toMatchObject({
      courseSourcedId: 'crs-1',
      schoolSourcedId: 'sch-1',
      termSourcedIds: ['t-1', 't-2'],
      grades: ['09', '10'],
      periods: ['1'],
      metadata: { subjectCodes: ['MA-1'] },
    });
  });

  it('reads academic sessions with a string schoolYear and a 1.2 org', () => {
    const record = ok(
      normaliseRestRecord(
        'academicSessions',
        {
          sourcedId: 'y-2024',
          status: 'active',
          title: '2023-24',
          type: 'schoolYear',
          startDate: '2023-08-15',
          endDate: '2024-06-10',
          schoolYear: '2024',
          parent: null,
          children: [{ sourcedId: 't-1' }],
          org: { sourcedId: 'd-1' },
        },
        '1.2',
      ),
    );
    expect(record).toMatchObject({
      schoolYear: 2024,
      startDate: '2023-08-15',
      orgSourcedId: 'd-1',
      parentSourcedId: null,
    });
    expect(record.metadata).toEqual({});
  });

  it('reads enrollments and demographics', () => {
    expect(
      ok(
        normaliseRestRecord(
          'enrollments',
          {
            sourcedId: 'e-1',
            status: 'tobedeleted',
            user: { sourcedId: 's-1' },
            class: { sourcedId: 'c-1' },
            school: { sourcedId: 'sch-1' },
            role: 'teacher',
            primary: 'true',
            beginDate: '2025-08-20',
            endDate: '',
          },
          '1.1',
        ),
      ),
    ).toMatchObject({ status: 'tobedeleted', role: 'teacher', primary: true, beginDate: '2025-08-20', endDate: null });
    expect(
      ok(
        normaliseRestRecord(
          'demographics',
          { sourcedId: 's-1', status: 'active', birthDate: '2010-03-04', sex: 'female', asian: 'true', white: 'false' },
          '1.1',
        ),
      ),
    ).toMatchObject({
      birthDate: '2010-03-04',
      sex: 'female',
      race: { asian: true, white: false, blackOrAfricanAmerican: null },
      hispanicOrLatino: null,
    });
  });

  it('reports a record missing a required field instead of throwing', () => {
    const result = normaliseRestRecord(
      'people',
      {
        sourcedId: 's-1',
        status: 'active',
        enabledUser: 'true',
        familyName: 'Doe',
        role: 'student',
        orgs: [{ sourcedId: 'o' }],
        username: 'x',
      },
      '1.1',
    );
    expect(result).toEqual({
      ok: false,
      issue: { entity: 'people', sourcedId: 's-1', field: 'givenName', message: 'givenName is required' },
    });
  });

  it('reports bad values without quoting them', () => {
    const result = normaliseRestRecord(
      'demographics',
      { sourcedId: 's-1', status: 'active', birthDate: '31/31/2010' },
      '1.1',
    );
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issue.field).toBe('birthDate');
      expect(result.issue.message).not.toContain('31/31');
    }
  });

  it.each([
    ['not an object', 'a string', null, null],
    ['without a sourcedId', { status: 'active', name: 'X', type: 'school' }, null, 'sourcedId'],
    ['with an unknown status', { sourcedId: 'o-1', status: 'archived', name: 'X', type: 'school' }, 'o-1', 'status'],
    ['with an unknown org type', { sourcedId: 'o-1', status: 'active', name: 'X', type: 'campus' }, 'o-1', 'type'],
    ['with a malformed reference', { sourcedId: 'o-1', name: 'X', type: 'school', parent: 42 }, 'o-1', 'parent'],
  ])('reports an org %s', (_case, raw, sourcedId, field) => {
    const result = normaliseRestRecord('orgs', raw, '1.1');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issue).toMatchObject({ entity: 'orgs', sourcedId, field });
  });

  it('reports a 1.2 role that is not in the vocabulary', () => {
    const result = normaliseRestRecord(
      'people',
      {
        sourcedId: 'p-1',
        enabledUser: 'true',
        givenName: 'A',
        familyName: 'B',
        roles: [{ roleType: 'primary', role: 'janitor', org: { sourcedId: 'o' } }],
      },
      '1.2',
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issue.field).toBe('roles[0].role');
  });

  it('maps OneRoster 1.0 inactive to tobedeleted', () => {
    expect(
      ok(normaliseRestRecord('orgs', { sourcedId: 'o', status: 'inactive', name: 'X', type: 'school' }, '1.1')).status,
    ).toBe('tobedeleted');
  });
});

describe('normaliseCsvRow', () => {
  it('reads a 1.1 users.csv row: role and orgSourcedIds, lists, userIds, metadata columns', () => {
    const person = ok(
      normaliseCsvRow(
        'people',
        {
          ...csvRow('1.1', 'users', {
            sourcedId: 's-1',
            enabledUser: 'FALSE',
            orgSourcedIds: 'sch-1,sch-2',
            role: 'teacher',
            username: 'tsmith',
            userIds: '{LDAP:tsmith}',
            givenName: 'Tom',
            familyName: 'Smith',
            agentSourcedIds: '',
            grades: '09,10',
            password: 'p4ss',
          }),
          'metadata.ic.legacysourceId': 'T1',
          'metadata.empty': '',
        },
        { version: '1.1' },
      ),
    );
    expect(person).toMatchObject({
      status: 'active',
      dateLastModified: null,
      enabled: false,
      primaryRole: 'teacher',
      orgSourcedIds: ['sch-1', 'sch-2'],
      grades: ['09', '10'],
      userIds: [{ type: 'LDAP', identifier: 'tsmith' }],
      metadata: { 'ic.legacysourceId': 'T1' },
    });
    expect(JSON.stringify(person)).not.toContain('p4ss');
  });

  it('reads a 1.2 users.csv row with memberships joined from roles.csv and CSV preferred names', () => {
    const role = ok(
      normaliseCsvRole({
        sourcedId: 'r-1',
        status: '',
        dateLastModified: '',
        userSourcedId: 's-1',
        roleType: 'primary',
        role: 'student',
        beginDate: '8/20/2025',
        endDate: '',
        orgSourcedId: 'sch-1',
        userProfileSourcedId: '',
      }),
    );
    expect(role).toEqual({
      userSourcedId: 's-1',
      status: 'active',
      membership: {
        role: 'student',
        roleType: 'primary',
        orgSourcedId: 'sch-1',
        beginDate: '2025-08-20',
        endDate: null,
      },
    });
    const person = ok(
      normaliseCsvRow(
        'people',
        csvRow('1.2', 'users', {
          sourcedId: 's-1',
          enabledUser: 'true',
          username: 'kim',
          givenName: 'Kimberly',
          familyName: 'Lee',
          preferredGivenName: 'Kim',
          preferredFamilyName: 'Li',
          primaryOrgSourcedId: 'sch-1',
        }),
        { version: '1.2', memberships: [role.membership] },
      ),
    );
    expect(person).toMatchObject({
      preferredFirstName: 'Kim',
      preferredLastName: 'Li',
      primaryRole: 'student',
      orgSourcedIds: ['sch-1'],
      primaryOrgSourcedId: 'sch-1',
    });
  });

  it('reports a 1.2 user without roles', () => {
    const result = normaliseCsvRow(
      'people',
      csvRow('1.2', 'users', { sourcedId: 's-1', enabledUser: 'true', username: 'k', givenName: 'K', familyName: 'L' }),
      { version: '1.2' },
    );
    expect(result).toMatchObject({ ok: false, issue: { field: 'roles', sourcedId: 's-1' } });
  });

  it('reads classes.csv lists and legacy dates in academicSessions.csv', () => {
    expect(
      ok(
        normaliseCsvRow(
          'classes',
          csvRow('1.1', 'classes', {
            sourcedId: 'c-1',
            title: 'Biology',
            courseSourcedId: 'crs-1',
            classType: 'homeroom',
            schoolSourcedId: 'sch-1',
            termSourcedIds: 't-1, t-2',
            periods: '1,2',
          }),
          { version: '1.1' },
        ),
      ),
    ).toMatchObject({ termSourcedIds: ['t-1', 't-2'], periods: ['1', '2'], classType: 'homeroom', grades: [] });
    expect(
      ok(
        normaliseCsvRow(
          'academicSessions',
          csvRow('1.1', 'academicSessions', {
            sourcedId: 't-1',
            title: 'Fall',
            type: 'term',
            startDate: '8/15/2025',
            endDate: '12/19/2025',
            schoolYear: '2026',
          }),
          { version: '1.1' },
        ),
      ),
    ).toMatchObject({ startDate: '2025-08-15', endDate: '2025-12-19', schoolYear: 2026, orgSourcedId: null });
  });

  it('reports an enrollment without its class', () => {
    const result = normaliseCsvRow(
      'enrollments',
      csvRow('1.1', 'enrollments', {
        sourcedId: 'e-1',
        schoolSourcedId: 'sch-1',
        userSourcedId: 's-1',
        role: 'student',
      }),
      { version: '1.1' },
    );
    expect(result).toMatchObject({ ok: false, issue: { entity: 'enrollments', field: 'classSourcedId' } });
  });
});

describe('OneRosterSchoolScope', () => {
  const org = (sourcedId: string, type: string, parent: string | null = null) =>
    ok(
      normaliseRestRecord('orgs', { sourcedId, name: sourcedId, type, parent: parent && { sourcedId: parent } }, '1.1'),
    );

  it('keeps district-level orgs, scoped schools and their departments, and what hangs from them', () => {
    const scope = new OneRosterSchoolScope(['sch-1']);
    expect(scope.includes('orgs', org('d-1', 'district'))).toBe(true);
    expect(scope.includes('orgs', org('sch-1', 'school', 'd-1'))).toBe(true);
    expect(scope.includes('orgs', org('sch-2', 'school', 'd-1'))).toBe(false);
    expect(scope.includes('orgs', org('dep-1', 'department', 'sch-1'))).toBe(true);
    expect(scope.includes('orgs', org('dep-2', 'department', 'sch-2'))).toBe(false);

    const course = (orgSourcedId: string) =>
      ok(
        normaliseRestRecord(
          'courses',
          { sourcedId: `crs-${orgSourcedId}`, title: 'T', org: { sourcedId: orgSourcedId } },
          '1.1',
        ),
      );
    expect(scope.includes('courses', course('sch-1'))).toBe(true);
    expect(scope.includes('courses', course('d-1'))).toBe(true);
    expect(scope.includes('courses', course('sch-2'))).toBe(false);

    const person = (orgs: string[]) =>
      ok(
        normaliseRestRecord(
          'people',
          {
            sourcedId: 'p',
            enabledUser: 'true',
            username: 'u',
            givenName: 'A',
            familyName: 'B',
            role: 'teacher',
            orgs: orgs.map((sourcedId) => ({ sourcedId })),
          },
          '1.1',
        ),
      );
    expect(scope.includes('people', person(['sch-2', 'sch-1']))).toBe(true);
    expect(scope.includes('people', person(['sch-2']))).toBe(false);
  });

  it('keeps everything when no school is listed', () => {
    expect(new OneRosterSchoolScope([]).includes('orgs', org('sch-9', 'school'))).toBe(true);
  });
});

describe('a dateLastModified that is not ISO 8601', () => {
  it('keeps a REST record without the timestamp and says what was ignored, by shape only', () => {
    const result = normaliseRestRecord(
      'orgs',
      { sourcedId: 'o-1', status: 'active', dateLastModified: '1/05/2023', name: 'North', type: 'school' },
      '1.1',
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.record).toMatchObject({ sourcedId: 'o-1', name: 'North', dateLastModified: null });
    expect(result.ignored).toEqual([
      { field: 'dateLastModified', problem: 'is not an ISO 8601 date-time', shape: '9/99/9999' },
    ]);
    expect(JSON.stringify(result.ignored)).not.toContain('2023');
  });

  it('keeps a CSV user row without the timestamp', () => {
    const result = normaliseCsvRow(
      'people',
      csvRow('1.1', 'users', {
        sourcedId: 't-1',
        dateLastModified: 'Jan 5, 2023',
        enabledUser: 'true',
        orgSourcedIds: 'sch-1',
        role: 'teacher',
        username: 'tt',
        givenName: 'Tess',
        familyName: 'Teach',
      }),
      { version: '1.1' },
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.record).toMatchObject({ sourcedId: 't-1', primaryRole: 'teacher', dateLastModified: null });
    expect(result.ignored).toEqual([
      { field: 'dateLastModified', problem: 'is not an ISO 8601 date-time', shape: 'aaa 9, 9999' },
    ]);
  });

  it('reports nothing for a valid or blank timestamp', () => {
    const valid = normaliseRestRecord(
      'orgs',
      { sourcedId: 'o-1', dateLastModified: '2023-01-05T00:00:00Z', name: 'North', type: 'school' },
      '1.1',
    );
    const blank = normaliseRestRecord('orgs', { sourcedId: 'o-2', name: 'South', type: 'school' }, '1.1');
    expect(valid).toEqual({
      ok: true,
      record: expect.objectContaining({ dateLastModified: '2023-01-05T00:00:00.000Z' }),
    });
    expect(blank.ok && blank.ignored).toBeUndefined();
  });

  it('still rejects the bad dates that matter (enrollment dates, birthDate)', () => {
    const enrollment = normaliseRestRecord(
      'enrollments',
      {
        sourcedId: 'e-1',
        class: { sourcedId: 'k' },
        school: { sourcedId: 's' },
        user: { sourcedId: 'u' },
        role: 'student',
        beginDate: 'soon',
      },
      '1.1',
    );
    expect(enrollment).toMatchObject({ ok: false, issue: { field: 'beginDate' } });
    const demographics = normaliseRestRecord('demographics', { sourcedId: 'd-1', birthDate: '31/31/2010' }, '1.1');
    expect(demographics).toMatchObject({ ok: false, issue: { field: 'birthDate' } });
  });
});
