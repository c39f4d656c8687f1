import { createHash } from 'node:crypto';

/**
 * The fake district as the fake SIS holds it: version-neutral OneRoster records with references kept as
 * plain sourcedIds (the CSV column names), so 350k enrollments stay compact. The server and the CSV writer
 * render 1.1 or 1.2 wire shapes from these. A user is a person (1.2 style, `roles[]`); the 1.1 projection
 * splits a person with several roles into several users.
 */
/** `inactive` is OneRoster 1.0's, removed in 1.1: served only to see how a consumer takes it. */
export type OneRosterStatus = 'active' | 'tobedeleted' | 'inactive';

/**
 * A OneRoster 1.2 extension value (`(ext:)[a-zA-Z0-9.\-_]+`), which the official 1.2 rostering OpenAPI allows in
 * org `type`, academic session `type`, `classType`, user `roles[].role`, enrollment `role` and demographics `sex`.
 */
export type OneRosterExtension = `ext:${string}`;

/** A user profile (1.2 `userProfiles[]`, UserProfileDType) with its credentials. */
export interface OneRosterUserProfile {
  profileId: string;
  profileType: string;
  vendorId: string;
  applicationId?: string;
  description?: string;
  credentials?: { type: string; username: string; password?: string }[];
}

export interface OneRosterRecordBase {
  sourcedId: string;
  status: OneRosterStatus;
  /** ISO 8601 UTC instant. */
  dateLastModified: string;
  metadata?: Record<string, unknown>;
}

export type OneRosterOrgType = 'district' | 'school' | 'department' | 'local' | 'state' | 'national';

export interface OneRosterOrg extends OneRosterRecordBase {
  name: string;
  type: OneRosterOrgType | OneRosterExtension;
  identifier: string | null;
  parentSourcedId: string | null;
}

export type OneRosterSessionType = 'schoolYear' | 'term' | 'semester' | 'gradingPeriod';

export interface OneRosterAcademicSession extends OneRosterRecordBase {
  title: string;
  type: OneRosterSessionType | OneRosterExtension;
  /** `YYYY-MM-DD`. */
  startDate: string;
  endDate: string;
  parentSourcedId: string | null;
  /** The ending year: 2025-26 is "2026". */
  schoolYear: string;
  /** Rendered in 1.2 only (`org`). */
  orgSourcedId: string | null;
}

export interface OneRosterCourse extends OneRosterRecordBase {
  title: string;
  courseCode: string | null;
  grades: string[];
  subjects: string[];
  subjectCodes: string[];
  /** Null: the 1.2 REST course has no `org` (CourseDType does not require it). */
  orgSourcedId: string | null;
  schoolYearSourcedId: string | null;
  /** 1.2 REST `resources[]` (ResourceGUIDRefs). */
  resourceSourcedIds?: string[];
}

export interface OneRosterClass extends OneRosterRecordBase {
  title: string;
  classCode: string | null;
  /** Null: left out (1.2 REST ClassDType does not require it). */
  classType: 'homeroom' | 'scheduled' | OneRosterExtension | null;
  location: string | null;
  grades: string[];
  subjects: string[];
  subjectCodes: string[];
  periods: string[];
  courseSourcedId: string;
  schoolSourcedId: string;
  termSourcedIds: string[];
  /** 1.2 REST `resources[]` (ResourceGUIDRefs). */
  resourceSourcedIds?: string[];
}

/** OneRoster 1.2 user roles. */
export type OneRosterRole =
  | 'aide'
  | 'counselor'
  | 'districtAdministrator'
  | 'guardian'
  | 'parent'
  | 'principal'
  | 'proctor'
  | 'relative'
  | 'siteAdministrator'
  | 'student'
  | 'systemAdministrator'
  | 'teacher';

/** OneRoster 1.1 has one role per user and fewer role values. */
export type OneRoster11Role =
  'administrator' | 'aide' | 'guardian' | 'parent' | 'proctor' | 'relative' | 'student' | 'teacher';

export interface OneRosterUserRole {
  roleType: 'primary' | 'secondary';
  role: OneRosterRole | OneRosterExtension;
  orgSourcedId: string;
  /** 1.2 `roles[].userProfile`: the profileId (a URI) of one of the user's `userProfiles`. */
  userProfile?: string;
  beginDate: string | null;
  endDate: string | null;
}

export interface OneRosterUser extends OneRosterRecordBase {
  enabledUser: boolean;
  username: string | null;
  userIds: { type: string; identifier: string }[];
  givenName: string;
  familyName: string;
  middleName: string | null;
  preferredFirstName: string | null;
  preferredMiddleName: string | null;
  preferredLastName: string | null;
  pronouns: string | null;
  identifier: string | null;
  email: string | null;
  sms: string | null;
  phone: string | null;
  userMasterIdentifier: string | null;
  /** The first `primary` role comes first; the 1.1 projection keeps that order. */
  roles: OneRosterUserRole[];
  primaryOrgSourcedId: string | null;
  /** Guardians of a student, or students of a guardian (person sourcedIds). */
  agentSourcedIds: string[];
  grades: string[];
  /** Set by `remapUserIds`: the id this person had before (Infinite Campus `metadata.ic.legacysourceId`). */
  legacySourcedId: string | null;
  /** 1.2 REST `userProfiles[]`; empty when absent. */
  userProfiles?: OneRosterUserProfile[];
  /** 1.2 REST `resources[]` (ResourceGUIDRefs). */
  resourceSourcedIds?: string[];
}

export type OneRosterEnrollmentRole = 'administrator' | 'proctor' | 'student' | 'teacher' | 'aide';

export interface OneRosterEnrollment extends OneRosterRecordBase {
  classSourcedId: string;
  schoolSourcedId: string;
  /** A person sourcedId; the 1.1 projection maps it to the per-role user id. */
  userSourcedId: string;
  role: OneRosterEnrollmentRole | OneRosterExtension;
  primary: boolean;
  beginDate: string | null;
  endDate: string | null;
}

export interface OneRosterDemographics extends OneRosterRecordBase {
  birthDate: string | null;
  sex: 'male' | 'female' | 'unspecified' | 'other' | OneRosterExtension | null;
  americanIndianOrAlaskaNative: boolean | null;
  asian: boolean | null;
  blackOrAfricanAmerican: boolean | null;
  nativeHawaiianOrOtherPacificIslander: boolean | null;
  white: boolean | null;
  demographicRaceTwoOrMoreRaces: boolean | null;
  hispanicOrLatinoEthnicity: boolean | null;
  countryOfBirthCode: string | null;
  stateOfBirthAbbreviation: string | null;
  cityOfBirth: string | null;
  publicSchoolResidenceStatus: string | null;
}

export interface OneRosterDataset {
  orgs: OneRosterOrg[];
  academicSessions: OneRosterAcademicSession[];
  courses: OneRosterCourse[];
  classes: OneRosterClass[];
  users: OneRosterUser[];
  enrollments: OneRosterEnrollment[];
  demographics: OneRosterDemographics[];
}

export type OneRosterCollection = keyof OneRosterDataset;
export type OneRosterRecordOf<C extends OneRosterCollection> = OneRosterDataset[C][number];

export const ONEROSTER_COLLECTIONS: readonly OneRosterCollection[] = [
  'orgs',
  'academicSessions',
  'courses',
  'classes',
  'users',
  'enrollments',
  'demographics',
];

export function compareSourcedIds(left: { sourcedId: string }, right: { sourcedId: string }): number {
  return left.sourcedId < right.sourcedId ? -1 : left.sourcedId > right.sourcedId ? 1 : 0;
}

export function sortedBySourcedId<T extends { sourcedId: string }>(records: readonly T[]): T[] {
  const copy = records.slice();
  for (let index = 1; index < copy.length; index++) {
    if (copy[index - 1].sourcedId > copy[index].sourcedId) return copy.sort(compareSourcedIds);
  }
  return copy;
}

/** A deterministic UUID-shaped id for a string, e.g. for `remapUserIds` (Infinite Campus 1.2 ids). */
export function uuidFromString(value: string): string {
  const hex = createHash('sha1').update(value).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const ONEROSTER_11_ROLE_OF: Readonly<Record<OneRosterRole, OneRoster11Role>> = {
  aide: 'aide',
  counselor: 'administrator',
  districtAdministrator: 'administrator',
  guardian: 'guardian',
  parent: 'parent',
  principal: 'administrator',
  proctor: 'proctor',
  relative: 'relative',
  siteAdministrator: 'administrator',
  student: 'student',
  systemAdministrator: 'administrator',
  teacher: 'teacher',
};

/** Only `s` and `t` are documented by Infinite Campus; the others are this fake's choice. */
export const IC_11_ROLE_PREFIXES: Readonly<Record<OneRoster11Role, string>> = {
  administrator: 'a',
  aide: 'i',
  guardian: 'p',
  parent: 'p',
  proctor: 'x',
  relative: 'r',
  student: 's',
  teacher: 't',
};

export interface OneRoster11Options {
  /** Infinite Campus 1.1: every user id is `<role letter><legacy id>` (`s123`, `t456`, `p456`). */
  ic11RolePrefixedIds?: boolean;
}

/** One 1.1 user: a person seen through one of its roles. */
export interface OneRoster11User {
  sourcedId: string;
  status: OneRosterStatus;
  dateLastModified: string;
  person: OneRosterUser;
  role: OneRoster11Role;
  orgSourcedIds: string[];
}

/** The person's 1.1 roles in their order, each with the orgs it is held in. */
export function oneRoster11RoleGroups(person: OneRosterUser): { role: OneRoster11Role; orgSourcedIds: string[] }[] {
  const groups: { role: OneRoster11Role; orgSourcedIds: string[] }[] = [];
  for (const membership of person.roles) {
    // 1.1 has no extension values: an ext: role is rendered as it is (a server that does not conform).
    const role =
      ONEROSTER_11_ROLE_OF[membership.role as OneRosterRole] ?? (membership.role as unknown as OneRoster11Role);
    let group = groups.find((candidate) => candidate.role === role);
    if (!group) {
      group = { role, orgSourcedIds: [] };
      groups.push(group);
    }
    if (!group.orgSourcedIds.includes(membership.orgSourcedId)) group.orgSourcedIds.push(membership.orgSourcedId);
  }
  return groups;
}

/**
 * The 1.1 sourcedId of a person in one role. Generic servers keep the person's id for its first role and
 * suffix the others (`123-parent`); Infinite Campus prefixes every id with a role letter.
 */
export function oneRoster11UserId(
  person: OneRosterUser,
  role: OneRoster11Role,
  options: OneRoster11Options = {},
  roleIndex = oneRoster11RoleGroups(person).findIndex((group) => group.role === role),
): string {
  if (options.ic11RolePrefixedIds) return IC_11_ROLE_PREFIXES[role] + (person.legacySourcedId ?? person.sourcedId);
  return roleIndex <= 0 ? person.sourcedId : `${person.sourcedId}-${role}`;
}

export function expandTo11Users(users: readonly OneRosterUser[], options: OneRoster11Options = {}): OneRoster11User[] {
  const expanded: OneRoster11User[] = [];
  for (const person of users) {
    const groups = oneRoster11RoleGroups(person);
    groups.forEach((group, index) => {
      expanded.push({
        sourcedId: oneRoster11UserId(person, group.role, options, index),
        status: person.status,
        dateLastModified: person.dateLastModified,
        person,
        role: group.role,
        orgSourcedIds: group.orgSourcedIds,
      });
    });
  }
  return expanded;
}

const AGENT_ROLES: readonly OneRoster11Role[] = ['guardian', 'parent', 'relative'];

/**
 * Resolves person references (enrollment user, agents, demographics) to 1.1 user ids. Unknown ids pass
 * through unchanged so dangling references stay dangling.
 */
export class OneRoster11IdResolver {
  private readonly people = new Map<string, OneRosterUser>();
  private readonly groups = new Map<string, { role: OneRoster11Role; orgSourcedIds: string[] }[]>();

  constructor(
    users: readonly OneRosterUser[],
    private readonly options: OneRoster11Options = {},
  ) {
    for (const person of users) this.people.set(person.sourcedId, person);
  }

  /** The id of the person in `role`, or in its first role when it lacks that one. */
  userId(personSourcedId: string, role: OneRoster11Role): string {
    const person = this.people.get(personSourcedId);
    if (!person) return personSourcedId;
    const groups = this.roleGroups(person);
    const index = Math.max(
      0,
      groups.findIndex((group) => group.role === role),
    );
    const group = groups[index];
    return group ? oneRoster11UserId(person, group.role, this.options, index) : personSourcedId;
  }

  /** An agent seen from a student is a guardian/parent/relative; seen from a guardian it is a student. */
  agentId(agentSourcedId: string, fromRole: OneRoster11Role): string {
    const agent = this.people.get(agentSourcedId);
    if (!agent) return agentSourcedId;
    const groups = this.roleGroups(agent);
    const wanted =
      fromRole === 'student'
        ? groups.findIndex((group) => AGENT_ROLES.includes(group.role))
        : groups.findIndex((group) => group.role === 'student');
    const index = Math.max(0, wanted);
    const group = groups[index];
    return group ? oneRoster11UserId(agent, group.role, this.options, index) : agentSourcedId;
  }

  private roleGroups(person: OneRosterUser): { role: OneRoster11Role; orgSourcedIds: string[] }[] {
    let groups = this.groups.get(person.sourcedId);
    if (!groups) {
      groups = oneRoster11RoleGroups(person);
      this.groups.set(person.sourcedId, groups);
    }
    return groups;
  }
}
