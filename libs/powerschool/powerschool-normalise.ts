import type {
  AcademicSessionRecord,
  AcademicSessionType,
  ClassRecord,
  CourseRecord,
  DemographicsRecord,
  EnrollmentRecord,
  OrgRecord,
  PersonRecord,
  PersonRole,
  PersonRoleMembership,
  RosterEntity,
  SourceStatus,
} from '@app/contracts';
import {
  calendarDateOf,
  dayBefore,
  flagOf,
  gradeCodeOf,
  idOf,
  integerOf,
  itemsOf,
  objectOf,
  textOf,
  type JsonObject,
} from './powerschool-values.js';

/**
 * Names the mapping below; it goes on every run record (through the source's description) so a run says which
 * mapping produced it. Bump it whenever a field is mapped differently.
 */
export const POWERSCHOOL_MAPPING_VERSION = 'powerschool-ws-v1@1';

/**
 * sourcedIds. Every record is keyed on its PowerSchool DCID (`id` in /ws/v1) as text. Two PowerSchool tables feed
 * one mirror entity in three places, and DCIDs of different tables overlap, so those keys carry a prefix:
 * staff are `staff-<Users.DCID>` (students keep their bare DCID), the district is `district-<uuid>` (it has no
 * DCID), and the teacher of a section is enrolled as `section-<Sections.DCID>-staff-<SchoolStaff.DCID>`.
 */
export const powerSchoolIds = {
  district: (key: string) => `district-${key}`,
  staff: (usersDcid: string) => `staff-${usersDcid}`,
  teacherEnrollment: (sectionDcid: string, schoolStaffDcid: string) =>
    `section-${sectionDcid}-staff-${schoolStaffDcid}`,
} as const;

/** A record that cannot be normalised: the caller reports it and skips the record. Never carries values. */
export interface PowerSchoolRecordIssue {
  entity: RosterEntity;
  sourcedId: string | null;
  field: string | null;
  message: string;
}

export type PowerSchoolNormaliseResult<T> = { ok: true; record: T } | { ok: false; issue: PowerSchoolRecordIssue };

type Result<T> = PowerSchoolNormaliseResult<T>;

const fail = (
  entity: RosterEntity,
  sourcedId: string | null,
  field: string | null,
  message: string,
): Result<never> => ({
  ok: false,
  issue: { entity, sourcedId, field, message },
});

/** Drops undefined and null members so metadata stays small and stable. */
function compact(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined && value !== null));
}

function powerSchoolMetadata(values: Record<string, unknown>): Record<string, unknown> {
  return { powerschool: compact(values) };
}

/** `metadata.powerschool` values are text, whatever JSON type the server sent (so re-runs hash the same). */
const text = (value: unknown): string | null => textOf(value) ?? null;

/** A date field, or an issue when it is present but unreadable. */
function dateField(
  raw: unknown,
  entity: RosterEntity,
  sourcedId: string,
  field: string,
): { ok: true; value: string | null } | { ok: false; result: Result<never> } {
  const value = calendarDateOf(raw);
  if (value === undefined) return { ok: false, result: fail(entity, sourcedId, field, `${field} is not a date`) };
  return { ok: true, value };
}

// Orgs ------------------------------------------------------------------------------------------------------

/** `/ws/v1/district` (the body's `district` object, or the body itself). The district has no DCID. */
export function districtOrg(raw: JsonObject): Result<OrgRecord> {
  const district = objectOf(raw.district) ?? raw;
  const key = text(district.uuid) ?? text(district.district_number) ?? text(district.id);
  if (!key) return fail('orgs', null, 'uuid', 'The district has neither a uuid nor a district_number');
  const sourcedId = powerSchoolIds.district(key);
  return {
    ok: true,
    record: {
      sourcedId,
      status: 'active',
      dateLastModified: null,
      metadata: powerSchoolMetadata({ uuid: text(district.uuid), districtNumber: text(district.district_number) }),
      name: text(district.name) ?? 'District',
      type: 'district',
      identifier: text(district.district_number),
      parentSourcedId: null,
    },
  };
}

/** A `/ws/v1/district/school` record. `id` is the school DCID; `school_number` is a different number. */
export function schoolOrg(raw: JsonObject, districtSourcedId: string | null): Result<OrgRecord> {
  const sourcedId = idOf(raw.id);
  if (!sourcedId) return fail('orgs', null, 'id', 'A school has no id (DCID)');
  const name = text(raw.name);
  if (!name) return fail('orgs', sourcedId, 'name', 'name is required');
  return {
    ok: true,
    record: {
      sourcedId,
      status: 'active',
      dateLastModified: null,
      metadata: powerSchoolMetadata({
        schoolNumber: text(raw.school_number),
        stateProvinceId: text(raw.state_province_id),
        alternateSchoolNumber: text(raw.alternate_school_number),
        lowGrade: text(raw.low_grade),
        highGrade: text(raw.high_grade),
      }),
      name,
      type: 'school',
      identifier: text(raw.school_number),
      parentSourcedId: districtSourcedId,
    },
  };
}

// Academic sessions -------------------------------------------------------------------------------------------

/**
 * A school's terms. `portion` 1 is the school year; 2 its semesters; more (trimesters, quarters) terms. Each
 * shorter term's parent is the same school's year term with the same `start_year`. `schoolYear` is the ending
 * year (`start_year` 2025 → 2026).
 */
export function schoolTerms(raws: readonly JsonObject[], schoolSourcedId: string): Result<AcademicSessionRecord>[] {
  const yearTerms = new Map<number, string>();
  for (const raw of raws) {
    const id = idOf(raw.id);
    const portion = integerOf(raw.portion);
    const startYear = startYearOf(raw);
    if (id && portion === 1 && typeof startYear === 'number' && !yearTerms.has(startYear)) {
      yearTerms.set(startYear, id);
    }
  }
  return raws.map((raw) => schoolTerm(raw, schoolSourcedId, yearTerms));
}

function startYearOf(raw: JsonObject): number | null | undefined {
  const startYear = integerOf(raw.start_year);
  if (typeof startYear === 'number') return startYear;
  const start = calendarDateOf(raw.start_date);
  if (!start) return startYear;
  const [year, month] = start.split('-').map(Number);
  // A term starting in the first half of the calendar year belongs to the year that started the summer before.
  return month >= 7 ? year : year - 1;
}

function schoolTerm(
  raw: JsonObject,
  schoolSourcedId: string,
  yearTerms: ReadonlyMap<number, string>,
): Result<AcademicSessionRecord> {
  const sourcedId = idOf(raw.id);
  if (!sourcedId) return fail('academicSessions', null, 'id', 'A term has no id (DCID)');
  const portion = integerOf(raw.portion);
  if (portion === undefined) return fail('academicSessions', sourcedId, 'portion', 'portion is not a number');
  const start = dateField(raw.start_date, 'academicSessions', sourcedId, 'start_date');
  if (!start.ok) return start.result;
  const end = dateField(raw.end_date, 'academicSessions', sourcedId, 'end_date');
  if (!end.ok) return end.result;
  const startYear = startYearOf(raw);
  const type: AcademicSessionType =
    portion === 1 || portion === null ? 'schoolYear' : portion === 2 ? 'semester' : 'term';
  const parent = type === 'schoolYear' || typeof startYear !== 'number' ? null : (yearTerms.get(startYear) ?? null);
  const title = text(raw.name) ?? text(raw.abbreviation);
  if (!title) return fail('academicSessions', sourcedId, 'name', 'name is required');
  return {
    ok: true,
    record: {
      sourcedId,
      status: 'active',
      dateLastModified: null,
      metadata: powerSchoolMetadata({
        abbreviation: text(raw.abbreviation),
        portion: text(raw.portion),
        startYear: text(raw.start_year),
      }),
      title,
      type,
      startDate: start.value,
      endDate: end.value,
      schoolYear: typeof startYear === 'number' ? startYear + 1 : null,
      parentSourcedId: parent,
      orgSourcedId: schoolSourcedId,
    },
  };
}

// Courses -----------------------------------------------------------------------------------------------------

/**
 * A course as listed by the schools that offer it. PowerSchool's course catalogue is district-wide: a course
 * offered by one school belongs to that school, one offered by several to the district.
 */
export function course(
  raw: JsonObject,
  schoolSourcedIds: readonly string[],
  districtSourcedId: string | null,
): Result<CourseRecord> {
  const sourcedId = idOf(raw.id);
  if (!sourcedId) return fail('courses', null, 'id', 'A course has no id (DCID)');
  const title = text(raw.course_name) ?? text(raw.name);
  if (!title) return fail('courses', sourcedId, 'course_name', 'course_name is required');
  const schools = [...new Set(schoolSourcedIds)].sort(compareIds);
  return {
    ok: true,
    record: {
      sourcedId,
      status: 'active',
      dateLastModified: null,
      metadata: powerSchoolMetadata({ courseNumber: text(raw.course_number), schoolIds: schools }),
      title,
      courseCode: text(raw.course_number),
      grades: [],
      subjects: [],
      orgSourcedId: schools.length === 1 ? schools[0] : (districtSourcedId ?? schools[0] ?? null),
      schoolYearSourcedId: null,
    },
  };
}

// Classes -----------------------------------------------------------------------------------------------------

/** A section. `course_id`, `term_id` and `school_id` are DCIDs; `staff_id` is the lead teacher's SchoolStaff DCID. */
export function sectionClass(
  raw: JsonObject,
  schoolSourcedId: string,
  courseTitle: string | null,
): Result<ClassRecord> {
  const sourcedId = idOf(raw.id);
  if (!sourcedId) return fail('classes', null, 'id', 'A section has no id (DCID)');
  const courseId = idOf(raw.course_id);
  if (!courseId) return fail('classes', sourcedId, 'course_id', 'course_id is required');
  const termId = idOf(raw.term_id);
  if (!termId) return fail('classes', sourcedId, 'term_id', 'term_id is required');
  const sectionNumber = text(raw.section_number);
  const expression = text(raw.expression);
  const title = [courseTitle ?? `Course ${courseId}`, sectionNumber ? `section ${sectionNumber}` : null]
    .filter((part): part is string => part !== null)
    .join(', ');
  return {
    ok: true,
    record: {
      sourcedId,
      status: 'active',
      dateLastModified: null,
      metadata: powerSchoolMetadata({
        sectionNumber,
        expression,
        externalExpression: text(raw.external_expression),
        staffId: text(raw.staff_id),
        room: text(raw.room),
      }),
      title,
      classCode: sectionNumber,
      classType: 'scheduled',
      location: text(raw.room),
      grades: [],
      subjects: [],
      periods: expression ? [expression] : [],
      courseSourcedId: courseId,
      schoolSourcedId: idOf(raw.school_id) ?? schoolSourcedId,
      termSourcedIds: [termId],
    },
  };
}

// People ------------------------------------------------------------------------------------------------------

/**
 * A student as listed by a school with `expansions=…school_enrollment,contact_info,phones…`. Keyed on the DCID;
 * `local_id` (the student number) is the identifier. Enrolment status 0 (active) is an enabled student, −1
 * (pre-registered) a disabled one; any other status (transferred, graduated, historical, inactive) withdraws the
 * student. The school membership ends the day before `exit_date`, which PowerSchool stores exclusive.
 */
export function studentPerson(raw: JsonObject, listingSchoolSourcedId: string): Result<PersonRecord> {
  const sourcedId = idOf(raw.id);
  if (!sourcedId) return fail('people', null, 'id', 'A student has no id (DCID)');
  const name = objectOf(raw.name) ?? {};
  const givenName = text(name.first_name);
  if (!givenName) return fail('people', sourcedId, 'name.first_name', 'name.first_name is required');
  const familyName = text(name.last_name);
  if (!familyName) return fail('people', sourcedId, 'name.last_name', 'name.last_name is required');
  const enrollment = objectOf(raw.school_enrollment) ?? {};
  const statusCode = statusCodeOf(enrollment);
  if (statusCode === undefined) {
    return fail('people', sourcedId, 'school_enrollment.status_code', 'The enrolment status is not readable');
  }
  const entry = dateField(enrollment.entry_date, 'people', sourcedId, 'school_enrollment.entry_date');
  if (!entry.ok) return entry.result;
  const exit = dateField(enrollment.exit_date, 'people', sourcedId, 'school_enrollment.exit_date');
  if (!exit.ok) return exit.result;
  const schoolSourcedId = listingSchoolSourcedId;
  const status: SourceStatus = statusCode === null || statusCode === 0 || statusCode === -1 ? 'active' : 'tobedeleted';
  const grade = gradeCodeOf(enrollment.grade_level);
  const stateId = text(raw.state_province_id);
  return {
    ok: true,
    record: {
      sourcedId,
      status,
      dateLastModified: null,
      metadata: powerSchoolMetadata({
        localId: text(raw.local_id),
        stateProvinceId: stateId,
        schoolNumber: text(enrollment.school_number),
        schoolId: text(enrollment.school_id),
        enrollStatus: text(enrollment.enroll_status),
        enrollStatusCode: statusCode === null ? null : String(statusCode),
        gradeLevel: text(enrollment.grade_level),
        entryDate: entry.value,
        exitDate: exit.value,
      }),
      givenName,
      familyName,
      middleName: text(name.middle_name),
      preferredFirstName: null,
      preferredLastName: null,
      pronouns: null,
      username: text(raw.student_username),
      email: text(objectOf(raw.contact_info)?.email),
      identifier: text(raw.local_id),
      enabled: statusCode === null || statusCode === 0,
      roles: [
        {
          role: 'student',
          roleType: 'primary',
          orgSourcedId: schoolSourcedId,
          beginDate: entry.value,
          endDate: exit.value ? dayBefore(exit.value) : null,
        },
      ],
      primaryRole: 'student',
      orgSourcedIds: [schoolSourcedId],
      primaryOrgSourcedId: schoolSourcedId,
      grades: grade ? [grade] : [],
      agentSourcedIds: [],
      userIds: stateId ? [{ type: 'stateId', identifier: stateId }] : [],
      phone: text(objectOf(objectOf(raw.phones)?.main)?.number),
      sms: null,
      sourceAliases: [],
    },
  };
}

/** `status_code` (0 active, −1 pre-registered, 2 transferred, 3 graduated, 4 historical), else `enroll_status`. */
function statusCodeOf(enrollment: JsonObject): number | null | undefined {
  const code = integerOf(enrollment.status_code ?? enrollment.enroll_status_code);
  if (code !== null) return code;
  const letter = text(enrollment.enroll_status);
  if (letter === null) return null;
  const byLetter: Record<string, number> = { A: 0, P: -1, T: 2, G: 3, H: 4, I: 5 };
  return byLetter[letter.toUpperCase()] ?? undefined;
}

const RACE_CATEGORIES: Readonly<Record<string, keyof DemographicsRecord['race']>> = {
  I: 'americanIndianOrAlaskaNative',
  AI: 'americanIndianOrAlaskaNative',
  AM: 'americanIndianOrAlaskaNative',
  A: 'asian',
  AS: 'asian',
  B: 'blackOrAfricanAmerican',
  BL: 'blackOrAfricanAmerican',
  P: 'nativeHawaiianOrOtherPacificIslander',
  PI: 'nativeHawaiianOrOtherPacificIslander',
  NH: 'nativeHawaiianOrOtherPacificIslander',
  W: 'white',
  WH: 'white',
};

/** A student's `demographics` and `ethnicity_race` expansions, keyed like the student. */
export function studentDemographics(raw: JsonObject): Result<DemographicsRecord> {
  const sourcedId = idOf(raw.id);
  if (!sourcedId) return fail('demographics', null, 'id', 'A student has no id (DCID)');
  const demographics = objectOf(raw.demographics) ?? {};
  const ethnicity = objectOf(raw.ethnicity_race) ?? {};
  const birth = dateField(demographics.birth_date, 'demographics', sourcedId, 'demographics.birth_date');
  if (!birth.ok) return birth.result;
  const races = itemsOf(ethnicity.races)
    .map((race) => text(race.federal_race_code_category) ?? text(race.district_race_code))
    .filter((code): code is string => code !== null)
    .map((code) => RACE_CATEGORIES[code.toUpperCase()])
    .filter((category) => category !== undefined);
  const declined = text(ethnicity.federal_race_decline_indicator) !== null;
  const known = races.length > 0 && !declined;
  const has = (category: keyof DemographicsRecord['race']): boolean | null => (known ? races.includes(category) : null);
  const hispanic = flagOf(ethnicity.federal_ethnicity);
  const enrollment = objectOf(raw.school_enrollment) ?? {};
  const statusCode = statusCodeOf(enrollment);
  return {
    ok: true,
    record: {
      sourcedId,
      status:
        statusCode === null || statusCode === undefined || statusCode === 0 || statusCode === -1
          ? 'active'
          : 'tobedeleted',
      dateLastModified: null,
      metadata: powerSchoolMetadata({
        gender: text(demographics.gender),
        schedulingReportingEthnicity: text(ethnicity.scheduling_reporting_ethnicity),
      }),
      birthDate: birth.value,
      sex: sexOf(text(demographics.gender)),
      race: {
        americanIndianOrAlaskaNative: has('americanIndianOrAlaskaNative'),
        asian: has('asian'),
        blackOrAfricanAmerican: has('blackOrAfricanAmerican'),
        nativeHawaiianOrOtherPacificIslander: has('nativeHawaiianOrOtherPacificIslander'),
        white: has('white'),
        demographicRaceTwoOrMoreRaces: known ? new Set(races).size > 1 : null,
      },
      hispanicOrLatino: hispanic ?? null,
      countryOfBirthCode: null,
      stateOfBirth: null,
      cityOfBirth: null,
      publicSchoolResidenceStatus: null,
    },
  };
}

function sexOf(gender: string | null): DemographicsRecord['sex'] {
  if (gender === null) return null;
  switch (gender.toUpperCase()) {
    case 'M':
    case 'MALE':
      return 'male';
    case 'F':
    case 'FEMALE':
      return 'female';
    case 'U':
      return 'unspecified';
    default:
      return 'other';
  }
}

/**
 * One `/ws/v1/school/{id}/staff` entry. A staff member listed by several schools is one `Users` row (`users_dcid`)
 * with a `SchoolStaff` row (`id`) per school; the listing school's affiliation `type` decides the role there.
 */
export interface StaffListing {
  raw: JsonObject;
  schoolSourcedId: string;
}

/** What sections need to enrol a teacher: which person a SchoolStaff DCID is. */
export interface StaffIndex {
  personBySchoolStaffId: Map<string, string>;
}

/**
 * Folds a staff member's school listings into one person (`staff-<Users.DCID>`) with one role per school:
 * affiliation type 1 teacher, 2 administrator, 3 aide, 4 (substitute) teacher; the first school (by DCID) is the
 * primary one. Records the SchoolStaff DCID → person mapping in `index`.
 */
export function staffPerson(listings: readonly StaffListing[], index?: StaffIndex): Result<PersonRecord> {
  const ordered = [...listings].sort((a, b) => compareIds(a.schoolSourcedId, b.schoolSourcedId));
  const first = ordered[0]?.raw ?? {};
  const usersDcid = idOf(first.users_dcid) ?? idOf(first.id);
  if (!usersDcid) return fail('people', null, 'id', 'A staff member has no id');
  const sourcedId = powerSchoolIds.staff(usersDcid);
  const name = objectOf(first.name) ?? {};
  const givenName = text(name.first_name);
  if (!givenName) return fail('people', sourcedId, 'name.first_name', 'name.first_name is required');
  const familyName = text(name.last_name);
  if (!familyName) return fail('people', sourcedId, 'name.last_name', 'name.last_name is required');
  const roles: PersonRoleMembership[] = [];
  const schoolStaffIds: string[] = [];
  for (const [position, listing] of ordered.entries()) {
    const schoolStaffId = idOf(listing.raw.id);
    if (schoolStaffId) {
      schoolStaffIds.push(schoolStaffId);
      index?.personBySchoolStaffId.set(schoolStaffId, sourcedId);
    }
    if (roles.some((role) => role.orgSourcedId === listing.schoolSourcedId)) continue;
    roles.push({
      role: staffRoleAt(listing.raw, listing.schoolSourcedId),
      roleType: position === 0 ? 'primary' : 'secondary',
      orgSourcedId: listing.schoolSourcedId,
      beginDate: null,
      endDate: null,
    });
  }
  const emails = objectOf(first.emails) ?? {};
  const orgs = roles.map((role) => role.orgSourcedId).filter((org): org is string => org !== null);
  return {
    ok: true,
    record: {
      sourcedId,
      status: 'active',
      dateLastModified: null,
      metadata: powerSchoolMetadata({
        localId: text(first.local_id),
        usersDcid,
        schoolStaffIds: [...new Set(schoolStaffIds)].sort(compareIds),
        adminUsername: text(first.admin_username),
        teacherUsername: text(first.teacher_username),
      }),
      givenName,
      familyName,
      middleName: text(name.middle_name),
      preferredFirstName: null,
      preferredLastName: null,
      pronouns: null,
      username: text(first.teacher_username) ?? text(first.admin_username),
      email: text(emails.work_email) ?? text(emails.email),
      identifier: text(first.local_id),
      enabled: true,
      roles,
      primaryRole: roles[0]?.role ?? 'teacher',
      orgSourcedIds: orgs,
      primaryOrgSourcedId: orgs[0] ?? null,
      grades: [],
      agentSourcedIds: [],
      userIds: [],
      phone: null,
      sms: null,
      sourceAliases: [],
    },
  };
}

function staffRoleAt(raw: JsonObject, schoolSourcedId: string): PersonRole {
  const affiliations = itemsOf(raw.school_affiliations).flatMap((holder) =>
    holder.school_affiliation !== undefined ? itemsOf(holder.school_affiliation) : [holder],
  );
  const here = affiliations.find((affiliation) => idOf(affiliation.school_id) === schoolSourcedId) ?? affiliations[0];
  switch (integerOf(here?.type) ?? 0) {
    case 1:
    case 4:
      return 'teacher';
    case 2:
      return 'administrator';
    case 3:
      return 'aide';
    default:
      return text(raw.teacher_username) ? 'teacher' : 'administrator';
  }
}

// Enrollments -------------------------------------------------------------------------------------------------

/** What a section enrolment needs to know about its section. */
export interface SectionRef {
  sourcedId: string;
  schoolSourcedId: string;
  /** The lead teacher's SchoolStaff DCID (`section.staff_id`). */
  staffId: string | null;
}

/**
 * A `/ws/v1/section/{id}/section_enrollment` record (a CC row). `exit_date` is exclusive: the enrolment ends the
 * day before. A dropped enrolment, or one that ends before it starts (a no-show), is withdrawn (`tobedeleted`).
 */
export function sectionEnrollment(raw: JsonObject, section: SectionRef): Result<EnrollmentRecord> {
  return studentEnrollment(
    {
      id: raw.id,
      sectionId: raw.section_id,
      studentId: raw.student_id,
      entryDate: raw.entry_date,
      exitDate: raw.exit_date,
      dropped: raw.dropped,
    },
    section,
    { id: 'id', studentId: 'student_id', entryDate: 'entry_date', exitDate: 'exit_date', dropped: 'dropped' },
  );
}

/**
 * Column names a PowerQuery for enrolments may use, first match wins. Every id must be a DCID, as in /ws/v1:
 * `cc.studentid`, `cc.sectionid`, `cc.id` (and bare `id`, `student_id`, `section_id`, which a query usually fills
 * from them) are table ids, a different number, and are deliberately not read.
 */
export const POWERQUERY_ENROLLMENT_COLUMNS = {
  id: ['section_enrollment_id', 'cc_dcid', 'cc.dcid'],
  sectionId: ['section_dcid', 'sections_dcid', 'sections.dcid'],
  studentId: ['student_dcid', 'students_dcid', 'students.dcid'],
  entryDate: ['entry_date', 'dateenrolled', 'cc.dateenrolled'],
  exitDate: ['exit_date', 'dateleft', 'cc.dateleft'],
  dropped: ['dropped', 'cc.dropped'],
} as const;

/** A PowerQuery row (every value a string; `tables.cc.dcid`-style nesting flattened to `cc.dcid`). */
export function powerQueryEnrollment(
  raw: JsonObject,
  sectionsById: ReadonlyMap<string, SectionRef>,
): Result<EnrollmentRecord> | null {
  const row = flattenPowerQueryRow(raw);
  const pick = (names: readonly string[]): { value: unknown; column: string } => {
    for (const name of names) {
      if (row[name] !== undefined) return { value: row[name], column: name };
    }
    return { value: undefined, column: names[0] };
  };
  const columns = POWERQUERY_ENROLLMENT_COLUMNS;
  const sectionId = idOf(pick(columns.sectionId).value);
  if (!sectionId) {
    return fail('enrollments', idOf(pick(columns.id).value) ?? null, 'section_dcid', 'The row has no section DCID');
  }
  const section = sectionsById.get(sectionId);
  // A section outside the connection's schools (or unknown to this pull): not this connection's record.
  if (!section) return null;
  const id = pick(columns.id);
  const student = pick(columns.studentId);
  const entry = pick(columns.entryDate);
  const exit = pick(columns.exitDate);
  const dropped = pick(columns.dropped);
  return studentEnrollment(
    {
      id: id.value,
      sectionId,
      studentId: student.value,
      entryDate: entry.value,
      exitDate: exit.value,
      dropped: dropped.value,
    },
    section,
    {
      id: id.column,
      studentId: student.column,
      entryDate: entry.column,
      exitDate: exit.column,
      dropped: dropped.column,
    },
  );
}

function flattenPowerQueryRow(raw: JsonObject): JsonObject {
  const tables = objectOf(raw.tables);
  if (!tables) return raw;
  const flat: JsonObject = { ...raw };
  for (const [table, values] of Object.entries(tables)) {
    const columns = objectOf(values);
    if (!columns) continue;
    for (const [column, value] of Object.entries(columns)) flat[`${table}.${column}`] = value;
  }
  return flat;
}

function studentEnrollment(
  values: {
    id: unknown;
    sectionId: unknown;
    studentId: unknown;
    entryDate: unknown;
    exitDate: unknown;
    dropped: unknown;
  },
  section: SectionRef,
  fields: { id: string; studentId: string; entryDate: string; exitDate: string; dropped: string },
): Result<EnrollmentRecord> {
  const sourcedId = idOf(values.id);
  if (!sourcedId) return fail('enrollments', null, fields.id, 'A section enrolment has no id (DCID)');
  const userSourcedId = idOf(values.studentId);
  if (!userSourcedId) return fail('enrollments', sourcedId, fields.studentId, 'The student DCID is missing');
  const entry = dateField(values.entryDate, 'enrollments', sourcedId, fields.entryDate);
  if (!entry.ok) return entry.result;
  const exit = dateField(values.exitDate, 'enrollments', sourcedId, fields.exitDate);
  if (!exit.ok) return exit.result;
  const dropped = flagOf(values.dropped);
  if (dropped === undefined) return fail('enrollments', sourcedId, fields.dropped, `${fields.dropped} is not a flag`);
  const endDate = exit.value ? dayBefore(exit.value) : null;
  const noShow = entry.value !== null && endDate !== null && endDate < entry.value;
  return {
    ok: true,
    record: {
      sourcedId,
      status: dropped === true || noShow ? 'tobedeleted' : 'active',
      dateLastModified: null,
      metadata: powerSchoolMetadata({ entryDate: entry.value, exitDate: exit.value, dropped: dropped ? 'true' : null }),
      classSourcedId: section.sourcedId,
      schoolSourcedId: section.schoolSourcedId,
      userSourcedId,
      role: 'student',
      primary: false,
      beginDate: entry.value,
      endDate,
    },
  };
}

/** The lead teacher of a section (`section.staff_id`, a SchoolStaff DCID), as the primary teacher enrolment. */
export function teacherEnrollment(section: SectionRef, staff: StaffIndex): Result<EnrollmentRecord> | null {
  if (!section.staffId) return null;
  const sourcedId = powerSchoolIds.teacherEnrollment(section.sourcedId, section.staffId);
  const userSourcedId = staff.personBySchoolStaffId.get(section.staffId);
  if (!userSourcedId) {
    return fail(
      'enrollments',
      sourcedId,
      'staff_id',
      `The teacher of section ${section.sourcedId} (SchoolStaff ${section.staffId}) is not among the active staff of its school`,
    );
  }
  return {
    ok: true,
    record: {
      sourcedId,
      status: 'active',
      dateLastModified: null,
      metadata: powerSchoolMetadata({ schoolStaffId: section.staffId }),
      classSourcedId: section.sourcedId,
      schoolSourcedId: section.schoolSourcedId,
      userSourcedId,
      role: 'teacher',
      primary: true,
      beginDate: null,
      endDate: null,
    },
  };
}

/** Numeric ids in numeric order (then text order), so output does not depend on server order. */
export function compareIds(a: string, b: string): number {
  const [x, y] = [Number(a), Number(b)];
  if (Number.isFinite(x) && Number.isFinite(y) && x !== y) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}
