/**
 * The roster mirror's record shapes, normalised from any SIS (OneRoster 1.1/1.2 REST or CSV, PowerSchool).
 * Sources produce these; the mirror stores them keyed by (connection, sourcedId). Dates are calendar dates
 * `YYYY-MM-DD` (never shifted by a time zone); `dateLastModified` is an ISO 8601 UTC instant.
 */
export const ROSTER_ENTITIES = [
  'orgs',
  'academicSessions',
  'courses',
  'classes',
  'people',
  'demographics',
  'enrollments',
] as const;
export type RosterEntity = (typeof ROSTER_ENTITIES)[number];

/** Dependency order for creates and updates; deactivations run in the reverse order. */
export const ROSTER_APPLY_ORDER: readonly RosterEntity[] = ROSTER_ENTITIES;

export function isRosterEntity(value: string): value is RosterEntity {
  return (ROSTER_ENTITIES as readonly string[]).includes(value);
}

export type SourceStatus = 'active' | 'tobedeleted';

export interface SourceRecordBase {
  sourcedId: string;
  status: SourceStatus;
  dateLastModified: string | null;
  /** Unknown or vendor fields (`metadata.*`), kept as received. */
  metadata: Record<string, unknown>;
}

export type OrgType = 'district' | 'school' | 'department' | 'local' | 'state' | 'national';

export interface OrgRecord extends SourceRecordBase {
  name: string;
  type: OrgType;
  identifier: string | null;
  parentSourcedId: string | null;
}

export type AcademicSessionType = 'schoolYear' | 'term' | 'semester' | 'gradingPeriod';

export interface AcademicSessionRecord extends SourceRecordBase {
  title: string;
  type: AcademicSessionType;
  startDate: string | null;
  endDate: string | null;
  /** The ending year: 2023-24 is 2024. */
  schoolYear: number | null;
  parentSourcedId: string | null;
  orgSourcedId: string | null;
}

export interface CourseRecord extends SourceRecordBase {
  title: string;
  courseCode: string | null;
  grades: string[];
  subjects: string[];
  orgSourcedId: string | null;
  schoolYearSourcedId: string | null;
}

export interface ClassRecord extends SourceRecordBase {
  title: string;
  classCode: string | null;
  classType: 'homeroom' | 'scheduled' | null;
  location: string | null;
  grades: string[];
  subjects: string[];
  periods: string[];
  courseSourcedId: string | null;
  schoolSourcedId: string | null;
  termSourcedIds: string[];
}

export const PERSON_ROLES = [
  'student',
  'teacher',
  'aide',
  'administrator',
  'districtAdministrator',
  'siteAdministrator',
  'systemAdministrator',
  'principal',
  'counselor',
  'proctor',
  'guardian',
  'parent',
  'relative',
] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

export interface PersonRoleMembership {
  role: PersonRole;
  roleType: 'primary' | 'secondary';
  orgSourcedId: string | null;
  beginDate: string | null;
  endDate: string | null;
}

export interface PersonRecord extends SourceRecordBase {
  givenName: string;
  familyName: string;
  middleName: string | null;
  preferredFirstName: string | null;
  preferredLastName: string | null;
  pronouns: string | null;
  username: string | null;
  email: string | null;
  /** Human identifier, e.g. the student number. */
  identifier: string | null;
  enabled: boolean;
  /** One person may hold several roles in several orgs (1.2 `roles[]`, merged 1.1 per-role users). */
  roles: PersonRoleMembership[];
  primaryRole: PersonRole;
  orgSourcedIds: string[];
  primaryOrgSourcedId: string | null;
  grades: string[];
  /** Guardians of a student, or students of a guardian (OneRoster `agents`). */
  agentSourcedIds: string[];
  userIds: { type: string; identifier: string }[];
  phone: string | null;
  sms: string | null;
  /** Other sourcedIds this person was known by (1.1 per-role duplicates merged into this record). */
  sourceAliases: string[];
}

export interface DemographicsRecord extends SourceRecordBase {
  birthDate: string | null;
  sex: 'male' | 'female' | 'unspecified' | 'other' | null;
  race: {
    americanIndianOrAlaskaNative: boolean | null;
    asian: boolean | null;
    blackOrAfricanAmerican: boolean | null;
    nativeHawaiianOrOtherPacificIslander: boolean | null;
    white: boolean | null;
    demographicRaceTwoOrMoreRaces: boolean | null;
  };
  hispanicOrLatino: boolean | null;
  countryOfBirthCode: string | null;
  stateOfBirth: string | null;
  cityOfBirth: string | null;
  publicSchoolResidenceStatus: string | null;
}

export type EnrollmentRole = 'student' | 'teacher' | 'administrator' | 'proctor' | 'aide' | 'guardian';

export interface EnrollmentRecord extends SourceRecordBase {
  classSourcedId: string;
  schoolSourcedId: string | null;
  userSourcedId: string;
  role: EnrollmentRole;
  primary: boolean;
  beginDate: string | null;
  endDate: string | null;
}

export interface RosterRecordMap {
  orgs: OrgRecord;
  academicSessions: AcademicSessionRecord;
  courses: CourseRecord;
  classes: ClassRecord;
  people: PersonRecord;
  demographics: DemographicsRecord;
  enrollments: EnrollmentRecord;
}

export type RosterRecord<E extends RosterEntity = RosterEntity> = RosterRecordMap[E];
