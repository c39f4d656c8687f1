import { describe, expect, it } from 'vitest';
import {
  course,
  districtOrg,
  powerQueryEnrollment,
  schoolTerms,
  sectionEnrollment,
  staffPerson,
  studentDemographics,
  studentPerson,
  teacherEnrollment,
  type SectionRef,
  type StaffIndex,
} from './powerschool-normalise.js';
import { dayBefore, flagOf, gradeCodeOf, idOf, integerOf, itemsOf, objectOf } from './powerschool-values.js';

const section: SectionRef = { sourcedId: '9001', schoolSourcedId: '101', staffId: '20002' };

const student = (enrollment: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 5011,
  local_id: 112036,
  student_username: 'jdoe036',
  state_province_id: 'ST-1',
  name: { first_name: 'Zoë', middle_name: '', last_name: "O'Brien" },
  phones: '',
  contact_info: { email: 'z@students.test' },
  school_enrollment: {
    enroll_status: 'A',
    status_code: '0',
    grade_level: '0',
    entry_date: '2025-08-18',
    exit_date: '2026-06-06',
    school_number: 100,
    school_id: '101',
    ...enrollment,
  },
  ...extra,
});

describe('PowerSchool values', () => {
  it('reads numbers, flags and ids sent as strings, and collections sent as objects or ""', () => {
    expect([integerOf('42'), integerOf(' -1 '), integerOf('4.0'), integerOf('4.5'), integerOf('')]).toEqual([
      42,
      -1,
      4,
      undefined,
      null,
    ]);
    expect([flagOf('true'), flagOf('0'), flagOf('Y'), flagOf(1), flagOf('maybe'), flagOf('')]).toEqual([
      true,
      false,
      true,
      true,
      undefined,
      null,
    ]);
    expect([idOf(5011), idOf('5011'), idOf('50x'), idOf(null)]).toEqual(['5011', '5011', undefined, null]);
    expect(itemsOf({ id: 1 })).toEqual([{ id: 1 }]);
    expect(itemsOf('')).toEqual([]);
    expect(objectOf('')).toBeNull();
    expect(objectOf([{ a: 1 }])).toEqual({ a: 1 });
  });

  it('turns an exclusive exit date into the last day attended, across month, year and leap days', () => {
    expect(dayBefore('2026-06-06')).toBe('2026-06-05');
    expect(dayBefore('2026-01-01')).toBe('2025-12-31');
    expect(dayBefore('2024-03-01')).toBe('2024-02-29');
  });

  it('maps grade levels to CEDS codes', () => {
    expect(['-2', '-1', '0', 5, '12', '99'].map(gradeCodeOf)).toEqual(['PR', 'PK', 'KG', '05', '12', 'Other']);
  });
});

describe('PowerSchool mapping', () => {
  it('keys a student on the DCID, with the student number as identifier and the membership ending the day before exit', () => {
    const result = studentPerson(student({}), '101');
    expect(result.ok && result.record).toMatchObject({
      sourcedId: '5011',
      status: 'active',
      enabled: true,
      identifier: '112036',
      phone: null,
      email: 'z@students.test',
      middleName: null,
      grades: ['KG'],
      roles: [{ role: 'student', orgSourcedId: '101', beginDate: '2025-08-18', endDate: '2026-06-05' }],
      metadata: { powerschool: { localId: '112036', schoolNumber: '100', exitDate: '2026-06-06' } },
    });
  });

  it('disables pre-registered students and withdraws transferred, graduated and inactive ones', () => {
    const status = (enrollment: Record<string, unknown>) => {
      const result = studentPerson(student(enrollment), '101');
      return result.ok ? [result.record.status, result.record.enabled] : result.issue.field;
    };
    expect(status({ status_code: -1, enroll_status: 'P' })).toEqual(['active', false]);
    expect(status({ status_code: '2', enroll_status: 'T' })).toEqual(['tobedeleted', false]);
    expect(status({ status_code: undefined, enroll_status: 'G' })).toEqual(['tobedeleted', false]);
    expect(status({ status_code: undefined, enroll_status: 'Z' })).toBe('school_enrollment.status_code');
    expect(status({ exit_date: '06/31/2026' })).toBe('school_enrollment.exit_date');
  });

  it('reads races (one sent as an object), ethnicity flags and gender', () => {
    const one = studentDemographics(
      student(
        {},
        {
          demographics: { gender: 'F', birth_date: '2019-04-02' },
          ethnicity_race: { federal_ethnicity: 'YES', races: { federal_race_code_category: 'A' } },
        },
      ),
    );
    expect(one.ok && one.record).toMatchObject({
      sex: 'female',
      birthDate: '2019-04-02',
      hispanicOrLatino: true,
      race: { asian: true, white: false, demographicRaceTwoOrMoreRaces: false },
    });
    const none = studentDemographics(student({}, { demographics: '', ethnicity_race: '' }));
    expect(none.ok && none.record).toMatchObject({
      sex: null,
      hispanicOrLatino: null,
      race: { asian: null, demographicRaceTwoOrMoreRaces: null },
    });
  });

  it('makes the year term the parent of its semesters, with the ending year as schoolYear', () => {
    const [year, s1] = schoolTerms(
      [
        {
          id: 7001,
          portion: '1',
          start_year: '2025',
          name: '2025-26',
          start_date: '2025-08-18',
          end_date: '2026-06-05',
        },
        { id: 7002, portion: '2', start_year: 2025, name: 'S1', start_date: '2025-08-18', end_date: '2026-01-16' },
      ],
      '101',
    );
    expect(year.ok && year.record).toMatchObject({ type: 'schoolYear', schoolYear: 2026, parentSourcedId: null });
    expect(s1.ok && s1.record).toMatchObject({ type: 'semester', schoolYear: 2026, parentSourcedId: '7001' });
  });

  it('gives a course offered by several schools to the district', () => {
    const shared = course({ id: 301, course_name: 'Algebra I', course_number: 'MTH101' }, ['108', '101'], 'district-x');
    const own = course({ id: 302, course_name: 'Art' }, ['101'], 'district-x');
    expect(shared.ok && shared.record.orgSourcedId).toBe('district-x');
    expect(own.ok && own.record.orgSourcedId).toBe('101');
    expect(districtOrg({ district: { uuid: 'u-1', name: 'USD', district_number: '4711' } })).toMatchObject({
      ok: true,
      record: { sourcedId: 'district-u-1', identifier: '4711' },
    });
  });

  it('folds a staff member listed by two schools into one person, and indexes their SchoolStaff DCIDs', () => {
    const index: StaffIndex = { personBySchoolStaffId: new Map() };
    const affiliations = {
      school_affiliation: [
        { school_id: 101, type: '1', status: 1 },
        { school_id: 108, type: '2', status: 1 },
      ],
    };
    const listing = (schoolStaffId: number, school: string) => ({
      schoolSourcedId: school,
      raw: {
        id: schoolStaffId,
        users_dcid: 5001,
        local_id: 'T1',
        teacher_username: 'tkim',
        name: { first_name: 'Mei', last_name: 'Kim' },
        emails: { work_email: 'mei@district.test' },
        school_affiliations: affiliations,
      },
    });
    const result = staffPerson([listing(20003, '108'), listing(20002, '101')], index);
    expect(result.ok && result.record).toMatchObject({
      sourcedId: 'staff-5001',
      primaryRole: 'teacher',
      email: 'mei@district.test',
      orgSourcedIds: ['101', '108'],
      roles: [
        { role: 'teacher', roleType: 'primary', orgSourcedId: '101' },
        { role: 'administrator', roleType: 'secondary', orgSourcedId: '108' },
      ],
    });
    expect(teacherEnrollment(section, index)).toMatchObject({
      ok: true,
      record: { sourcedId: 'section-9001-staff-20002', userSourcedId: 'staff-5001', role: 'teacher', primary: true },
    });
    expect(teacherEnrollment({ ...section, staffId: '1' }, index)).toMatchObject({ ok: false });
  });

  it('withdraws dropped and no-show section enrolments and ends active ones the day before exit', () => {
    const enrollment = (extra: Record<string, unknown>) =>
      sectionEnrollment(
        { id: 40001, section_id: 9001, student_id: 5011, entry_date: '2025-08-18', exit_date: '2026-06-06', ...extra },
        section,
      );
    expect(enrollment({ dropped: 'false' })).toMatchObject({
      ok: true,
      record: { status: 'active', endDate: '2026-06-05', classSourcedId: '9001', schoolSourcedId: '101' },
    });
    expect(enrollment({ dropped: 'true' })).toMatchObject({ ok: true, record: { status: 'tobedeleted' } });
    expect(enrollment({ dropped: false, exit_date: '2025-08-18' })).toMatchObject({
      ok: true,
      record: { status: 'tobedeleted' },
    });
  });

  it('reads PowerQuery rows by DCID columns, ignoring table ids and sections outside the pull', () => {
    const sections = new Map([['9001', section]]);
    const row = {
      'cc.dcid': '40001',
      'cc.studentid': '1017',
      'students.dcid': '5011',
      'sections.dcid': '9001',
      'cc.dateenrolled': '2025-08-18',
      'cc.dateleft': '2026-06-06',
      dropped: '0',
    };
    expect(powerQueryEnrollment(row, sections)).toMatchObject({
      ok: true,
      record: { sourcedId: '40001', userSourcedId: '5011', endDate: '2026-06-05', status: 'active' },
    });
    const tableIdsOnly = { ...row, 'students.dcid': undefined };
    expect(powerQueryEnrollment(tableIdsOnly, sections)).toMatchObject({
      ok: false,
      issue: { field: 'student_dcid', sourcedId: '40001' },
    });
    expect(powerQueryEnrollment({ ...row, 'sections.dcid': '1' }, sections)).toBeNull();
    expect(
      powerQueryEnrollment(
        {
          tables: {
            cc: { dcid: '40002', dateenrolled: '2025-08-18' },
            students: { dcid: '5' },
            sections: { dcid: '9001' },
          },
        },
        sections,
      ),
    ).toMatchObject({ ok: true, record: { sourcedId: '40002', userSourcedId: '5', endDate: null } });
  });
});
