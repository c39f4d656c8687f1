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

/**
 * A OneRoster 1.2 extension value of an enumerated vocabulary: `ext:` followed by `[a-zA-Z0-9.\-_]+` (org type,
 * academic session type, class type, user role, enrollment role, demographics sex). OneRoster 1.1 has none.
 */
export type ExtensionValue = `ext:${string}`;

export interface SourceRecordBase {
  sourcedId: string;
  status: SourceStatus;
  dateLastModified: string | null;
  /** Unknown or vendor fields (`metadata.*`), kept as received. */
  metadata: Record<string, unknown>;
  /**
   * The OneRoster 1.2 extension values the record carried, as given, by field (`type`, `classType`, `role`): the
   * typed field itself holds the meaning the product uses (the mapped core value, or the extension value when the
   * connection maps it to nothing). Absent when the record carried none. A person's are on its `roles`.
   */
  extensionValues?: Record<string, ExtensionValue>;
}

export const ORG_TYPES = ['district', 'school', 'department', 'local', 'state', 'national'] as const;
export type OrgType = (typeof ORG_TYPES)[number];

export interface OrgRecord extends SourceRecordBase {
  name: string;
  /** A core type, or an extension value no connection mapping gave a core meaning (never a school). */
  type: OrgType | ExtensionValue;
  identifier: string | null;
  parentSourcedId: string | null;
}

export const ACADEMIC_SESSION_TYPES = ['schoolYear', 'term', 'semester', 'gradingPeriod'] as const;
export type AcademicSessionType = (typeof ACADEMIC_SESSION_TYPES)[number];

export interface AcademicSessionRecord extends SourceRecordBase {
  title: string;
  type: AcademicSessionType | ExtensionValue;
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

export const CLASS_TYPES = ['homeroom', 'scheduled'] as const;
export type ClassType = (typeof CLASS_TYPES)[number];

export interface ClassRecord extends SourceRecordBase {
  title: string;
  classCode: string | null;
  classType: ClassType | ExtensionValue | null;
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
  /** A core role, or an extension value no connection mapping gave a core meaning (grants nothing). */
  role: PersonRole | ExtensionValue;
  /** The OneRoster 1.2 extension value the source gave, when it gave one (`role` then holds its meaning). */
  sourceRole?: ExtensionValue;
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
  primaryRole: PersonRole | ExtensionValue;
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
  /** Stored as given: an extension value has no core meaning the product needs. */
  sex: 'male' | 'female' | 'unspecified' | 'other' | ExtensionValue | null;
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

export const ENROLLMENT_ROLES = ['student', 'teacher', 'administrator', 'proctor', 'aide', 'guardian'] as const;
export type EnrollmentRole = (typeof ENROLLMENT_ROLES)[number];

export interface EnrollmentRecord extends SourceRecordBase {
  classSourcedId: string;
  schoolSourcedId: string | null;
  userSourcedId: string;
  /** A core role, or an extension value no connection mapping gave a core meaning (neither student nor teacher). */
  role: EnrollmentRole | ExtensionValue;
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

/**
 * Per-connection meanings for OneRoster 1.2 extension values (`ext:…` → a core value), by vocabulary. An extension
 * value left out keeps no core meaning: an org type is no school, a role grants nothing.
 */
export interface ExtensionMappings {
  orgType?: Record<string, OrgType>;
  sessionType?: Record<string, AcademicSessionType>;
  classType?: Record<string, ClassType>;
  /** User roles (`roles[].role`, 1.2 roles.csv `role`). */
  role?: Record<string, PersonRole>;
  enrollmentRole?: Record<string, EnrollmentRole>;
}

export type ExtensionVocabulary = keyof Required<ExtensionMappings>;

/** The core values each mappable vocabulary may map to. */
export const EXTENSION_VOCABULARY_VALUES: Readonly<Record<ExtensionVocabulary, readonly string[]>> = {
  orgType: ORG_TYPES,
  sessionType: ACADEMIC_SESSION_TYPES,
  classType: CLASS_TYPES,
  role: PERSON_ROLES,
  enrollmentRole: ENROLLMENT_ROLES,
};

/** The OneRoster 1.2 extension value pattern, `(ext:)[a-zA-Z0-9.\-_]+`, anchored. */
export const EXTENSION_VALUE_PATTERN = /^ext:[a-zA-Z0-9.\-_]+$/;

export function isExtensionValue(value: string): value is ExtensionValue {
  return EXTENSION_VALUE_PATTERN.test(value);
}
