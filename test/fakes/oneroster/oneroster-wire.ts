import {
  OneRoster11IdResolver,
  type OneRoster11Options,
  type OneRoster11User,
  type OneRosterAcademicSession,
  type OneRosterClass,
  type OneRosterCollection,
  type OneRosterCourse,
  type OneRosterDataset,
  type OneRosterDemographics,
  type OneRosterEnrollment,
  type OneRosterEnrollmentRole,
  type OneRoster11Role,
  type OneRosterOrg,
  type OneRosterUser,
} from './oneroster-dataset.js';

export type OneRosterVersion = '1.1' | '1.2';

export interface OneRosterWireOptions extends OneRoster11Options {
  /** `spec`: 1.1 sends "true"/"false" strings, 1.2 JSON booleans. */
  booleans?: 'spec' | 'strings' | 'booleans';
  /** How absent optional scalars and references appear. Default `omit`. */
  emptyValues?: 'omit' | 'null' | 'empty-string';
  /** 1.2 users carry `metadata.ic.legacysourceId` (the id without role prefix), as Infinite Campus does. */
  icLegacySourceIdMetadata?: boolean;
}

export type WireObject = Record<string, unknown>;

/** Wire field names per version and collection; `references` are objects/arrays that filters cannot address. */
export const WIRE_FIELDS: Readonly<
  Record<
    OneRosterVersion,
    Readonly<Record<OneRosterCollection, { fields: readonly string[]; references: readonly string[] }>>
  >
> = {
  '1.1': {
    orgs: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'name',
        'type',
        'identifier',
        'parent',
        'children',
      ],
      references: ['metadata', 'parent', 'children'],
    },
    academicSessions: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'title',
        'startDate',
        'endDate',
        'type',
        'parent',
        'children',
        'schoolYear',
      ],
      references: ['metadata', 'parent', 'children'],
    },
    courses: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'title',
        'schoolYear',
        'courseCode',
        'grades',
        'subjects',
        'org',
        'subjectCodes',
        'resources',
      ],
      references: ['metadata', 'schoolYear', 'grades', 'subjects', 'org', 'subjectCodes', 'resources'],
    },
    classes: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'title',
        'classCode',
        'classType',
        'location',
        'grades',
        'subjects',
        'course',
        'school',
        'terms',
        'subjectCodes',
        'periods',
        'resources',
      ],
      references: [
        'metadata',
        'grades',
        'subjects',
        'course',
        'school',
        'terms',
        'subjectCodes',
        'periods',
        'resources',
      ],
    },
    users: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'username',
        'userIds',
        'enabledUser',
        'givenName',
        'familyName',
        'middleName',
        'role',
        'identifier',
        'email',
        'sms',
        'phone',
        'agents',
        'orgs',
        'grades',
        'password',
      ],
      references: ['metadata', 'userIds', 'agents', 'orgs', 'grades'],
    },
    enrollments: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'user',
        'class',
        'school',
        'role',
        'primary',
        'beginDate',
        'endDate',
      ],
      references: ['metadata', 'user', 'class', 'school'],
    },
    demographics: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'birthDate',
        'sex',
        'americanIndianOrAlaskaNative',
        'asian',
        'blackOrAfricanAmerican',
        'nativeHawaiianOrOtherPacificIslander',
        'white',
        'demographicRaceTwoOrMoreRaces',
        'hispanicOrLatinoEthnicity',
        'countryOfBirthCode',
        'stateOfBirthAbbreviation',
        'cityOfBirth',
        'publicSchoolResidenceStatus',
      ],
      references: ['metadata'],
    },
  },
  '1.2': {
    orgs: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'name',
        'type',
        'identifier',
        'parent',
        'children',
      ],
      references: ['metadata', 'parent', 'children'],
    },
    academicSessions: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'title',
        'startDate',
        'endDate',
        'type',
        'parent',
        'children',
        'schoolYear',
        'org',
      ],
      references: ['metadata', 'parent', 'children', 'org'],
    },
    courses: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'title',
        'schoolYear',
        'courseCode',
        'grades',
        'subjects',
        'org',
        'subjectCodes',
        'resources',
      ],
      references: ['metadata', 'schoolYear', 'grades', 'subjects', 'org', 'subjectCodes', 'resources'],
    },
    classes: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'title',
        'classCode',
        'classType',
        'location',
        'grades',
        'subjects',
        'course',
        'school',
        'terms',
        'subjectCodes',
        'periods',
        'resources',
      ],
      references: [
        'metadata',
        'grades',
        'subjects',
        'course',
        'school',
        'terms',
        'subjectCodes',
        'periods',
        'resources',
      ],
    },
    users: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'userMasterIdentifier',
        'username',
        'userIds',
        'enabledUser',
        'givenName',
        'familyName',
        'middleName',
        'preferredFirstName',
        'preferredMiddleName',
        'preferredLastName',
        'pronouns',
        'roles',
        'userProfiles',
        'primaryOrg',
        'identifier',
        'email',
        'sms',
        'phone',
        'agents',
        'grades',
        'password',
        'resources',
      ],
      references: ['metadata', 'userIds', 'roles', 'userProfiles', 'primaryOrg', 'agents', 'grades', 'resources'],
    },
    enrollments: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'user',
        'class',
        'school',
        'role',
        'primary',
        'beginDate',
        'endDate',
      ],
      references: ['metadata', 'user', 'class', 'school'],
    },
    demographics: {
      fields: [
        'sourcedId',
        'status',
        'dateLastModified',
        'metadata',
        'birthDate',
        'sex',
        'americanIndianOrAlaskaNative',
        'asian',
        'blackOrAfricanAmerican',
        'nativeHawaiianOrOtherPacificIslander',
        'white',
        'demographicRaceTwoOrMoreRaces',
        'hispanicOrLatinoEthnicity',
        'countryOfBirthCode',
        'stateOfBirthAbbreviation',
        'cityOfBirth',
        'publicSchoolResidenceStatus',
      ],
      references: ['metadata'],
    },
  },
};

/**
 * Renders dataset records as OneRoster JSON for one version. Built per dataset revision: it indexes the
 * people (1.1 id mapping) and the org/session trees (`children`).
 */
export class OneRosterWireRenderer {
  private readonly ids: OneRoster11IdResolver;
  private readonly orgChildren = new Map<string, string[]>();
  private readonly sessionChildren = new Map<string, string[]>();
  private readonly booleansAsStrings: boolean;
  private readonly emptyValues: 'omit' | 'null' | 'empty-string';

  constructor(
    readonly version: OneRosterVersion,
    /** e.g. `http://127.0.0.1:1234/ims/oneroster/v1p1`, for `href`s. */
    private readonly baseUrl: string,
    dataset: OneRosterDataset,
    private readonly options: OneRosterWireOptions = {},
  ) {
    this.ids = new OneRoster11IdResolver(dataset.users, options);
    for (const org of dataset.orgs) addChild(this.orgChildren, org.parentSourcedId, org.sourcedId);
    for (const session of dataset.academicSessions) {
      addChild(this.sessionChildren, session.parentSourcedId, session.sourcedId);
    }
    const booleans = options.booleans ?? 'spec';
    this.booleansAsStrings = booleans === 'strings' || (booleans === 'spec' && version === '1.1');
    this.emptyValues = options.emptyValues ?? 'omit';
  }

  get resolver(): OneRoster11IdResolver {
    return this.ids;
  }

  org(org: OneRosterOrg): WireObject {
    const wire = this.base(org);
    wire['name'] = org.name;
    wire['type'] = org.type;
    this.put(wire, 'identifier', org.identifier);
    this.put(wire, 'parent', org.parentSourcedId && this.ref('orgs', 'org', org.parentSourcedId));
    wire['children'] = (this.orgChildren.get(org.sourcedId) ?? []).map((id) => this.ref('orgs', 'org', id));
    return wire;
  }

  academicSession(session: OneRosterAcademicSession): WireObject {
    const wire = this.base(session);
    wire['title'] = session.title;
    wire['startDate'] = session.startDate;
    wire['endDate'] = session.endDate;
    wire['type'] = session.type;
    this.put(
      wire,
      'parent',
      session.parentSourcedId && this.ref('academicSessions', 'academicSession', session.parentSourcedId),
    );
    wire['children'] = (this.sessionChildren.get(session.sourcedId) ?? []).map((id) =>
      this.ref('academicSessions', 'academicSession', id),
    );
    wire['schoolYear'] = session.schoolYear;
    if (this.version === '1.2')
      this.put(wire, 'org', session.orgSourcedId && this.ref('orgs', 'org', session.orgSourcedId));
    return wire;
  }

  course(course: OneRosterCourse): WireObject {
    const wire = this.base(course);
    wire['title'] = course.title;
    this.put(
      wire,
      'schoolYear',
      course.schoolYearSourcedId && this.ref('academicSessions', 'academicSession', course.schoolYearSourcedId),
    );
    this.put(wire, 'courseCode', course.courseCode);
    wire['grades'] = course.grades;
    wire['subjects'] = course.subjects;
    this.put(wire, 'org', course.orgSourcedId && this.ref('orgs', 'org', course.orgSourcedId));
    wire['subjectCodes'] = course.subjectCodes;
    wire['resources'] = this.resources(course.resourceSourcedIds);
    return wire;
  }

  class(schoolClass: OneRosterClass): WireObject {
    const wire = this.base(schoolClass);
    wire['title'] = schoolClass.title;
    this.put(wire, 'classCode', schoolClass.classCode);
    this.put(wire, 'classType', schoolClass.classType);
    this.put(wire, 'location', schoolClass.location);
    wire['grades'] = schoolClass.grades;
    wire['subjects'] = schoolClass.subjects;
    wire['course'] = this.ref('courses', 'course', schoolClass.courseSourcedId);
    wire['school'] = this.ref('orgs', 'org', schoolClass.schoolSourcedId);
    wire['terms'] = schoolClass.termSourcedIds.map((id) => this.ref('academicSessions', 'academicSession', id));
    wire['subjectCodes'] = schoolClass.subjectCodes;
    wire['periods'] = schoolClass.periods;
    wire['resources'] = this.resources(schoolClass.resourceSourcedIds);
    return wire;
  }

  user11(user: OneRoster11User): WireObject {
    const person = user.person;
    const wire = this.base(user, person.metadata);
    this.put(wire, 'username', person.username);
    wire['userIds'] = person.userIds;
    wire['enabledUser'] = this.bool(person.enabledUser);
    wire['givenName'] = person.givenName;
    wire['familyName'] = person.familyName;
    this.put(wire, 'middleName', person.middleName);
    wire['role'] = user.role;
    this.put(wire, 'identifier', person.identifier);
    this.put(wire, 'email', person.email);
    this.put(wire, 'sms', person.sms);
    this.put(wire, 'phone', person.phone);
    wire['agents'] = person.agentSourcedIds.map((id) => this.ref('users', 'user', this.ids.agentId(id, user.role)));
    wire['orgs'] = user.orgSourcedIds.map((id) => this.ref('orgs', 'org', id));
    wire['grades'] = user.role === 'student' ? person.grades : [];
    return wire;
  }

  user12(person: OneRosterUser): WireObject {
    const metadata = this.options.icLegacySourceIdMetadata
      ? { ...person.metadata, ic: { legacysourceId: person.legacySourcedId ?? person.sourcedId } }
      : person.metadata;
    const wire = this.base(person, metadata);
    this.put(wire, 'userMasterIdentifier', person.userMasterIdentifier);
    this.put(wire, 'username', person.username);
    wire['userIds'] = person.userIds;
    wire['enabledUser'] = this.bool(person.enabledUser);
    wire['givenName'] = person.givenName;
    wire['familyName'] = person.familyName;
    this.put(wire, 'middleName', person.middleName);
    this.put(wire, 'preferredFirstName', person.preferredFirstName);
    this.put(wire, 'preferredMiddleName', person.preferredMiddleName);
    this.put(wire, 'preferredLastName', person.preferredLastName);
    this.put(wire, 'pronouns', person.pronouns);
    wire['roles'] = person.roles.map((membership) => {
      const role: WireObject = {
        roleType: membership.roleType,
        role: membership.role,
        org: this.ref('orgs', 'org', membership.orgSourcedId),
      };
      this.put(role, 'userProfile', membership.userProfile);
      this.put(role, 'beginDate', membership.beginDate);
      this.put(role, 'endDate', membership.endDate);
      return role;
    });
    wire['userProfiles'] = person.userProfiles ?? [];
    this.put(wire, 'primaryOrg', person.primaryOrgSourcedId && this.ref('orgs', 'org', person.primaryOrgSourcedId));
    this.put(wire, 'identifier', person.identifier);
    this.put(wire, 'email', person.email);
    this.put(wire, 'sms', person.sms);
    this.put(wire, 'phone', person.phone);
    wire['agents'] = person.agentSourcedIds.map((id) => this.ref('users', 'user', id));
    wire['grades'] = person.grades;
    wire['resources'] = this.resources(person.resourceSourcedIds);
    return wire;
  }

  enrollment(enrollment: OneRosterEnrollment): WireObject {
    const wire = this.base(enrollment);
    const userId =
      this.version === '1.1'
        ? this.ids.userId(
            enrollment.userSourcedId,
            ONEROSTER_11_ROLE_OF_ENROLLMENT[enrollment.role as OneRosterEnrollmentRole] ??
              (enrollment.role as unknown as OneRoster11Role),
          )
        : enrollment.userSourcedId;
    wire['user'] = this.ref('users', 'user', userId);
    wire['class'] = this.ref('classes', 'class', enrollment.classSourcedId);
    wire['school'] = this.ref('orgs', 'org', enrollment.schoolSourcedId);
    wire['role'] = enrollment.role;
    wire['primary'] = this.bool(enrollment.primary);
    this.put(wire, 'beginDate', enrollment.beginDate);
    this.put(wire, 'endDate', enrollment.endDate);
    return wire;
  }

  demographics(record: OneRosterDemographics, sourcedId = record.sourcedId): WireObject {
    const wire = this.base({ ...record, sourcedId });
    this.put(wire, 'birthDate', record.birthDate);
    this.put(wire, 'sex', record.sex);
    this.put(wire, 'americanIndianOrAlaskaNative', this.bool(record.americanIndianOrAlaskaNative));
    this.put(wire, 'asian', this.bool(record.asian));
    this.put(wire, 'blackOrAfricanAmerican', this.bool(record.blackOrAfricanAmerican));
    this.put(wire, 'nativeHawaiianOrOtherPacificIslander', this.bool(record.nativeHawaiianOrOtherPacificIslander));
    this.put(wire, 'white', this.bool(record.white));
    this.put(wire, 'demographicRaceTwoOrMoreRaces', this.bool(record.demographicRaceTwoOrMoreRaces));
    this.put(wire, 'hispanicOrLatinoEthnicity', this.bool(record.hispanicOrLatinoEthnicity));
    this.put(wire, 'countryOfBirthCode', record.countryOfBirthCode);
    this.put(wire, 'stateOfBirthAbbreviation', record.stateOfBirthAbbreviation);
    this.put(wire, 'cityOfBirth', record.cityOfBirth);
    this.put(wire, 'publicSchoolResidenceStatus', record.publicSchoolResidenceStatus);
    return wire;
  }

  /** The 1.1 id under which a person's demographics appear (its student user). */
  demographics11Id(record: OneRosterDemographics): string {
    return this.version === '1.1' ? this.ids.userId(record.sourcedId, 'student') : record.sourcedId;
  }

  private base(
    record: { sourcedId: string; status: string; dateLastModified: string; metadata?: Record<string, unknown> },
    metadata = record.metadata,
  ): WireObject {
    const wire: WireObject = {
      sourcedId: record.sourcedId,
      status: record.status,
      dateLastModified: record.dateLastModified,
    };
    if (metadata && Object.keys(metadata).length > 0) wire['metadata'] = metadata;
    return wire;
  }

  private resources(sourcedIds: readonly string[] | undefined): WireObject[] {
    return (sourcedIds ?? []).map((id) => this.ref('resources', 'resource', id));
  }

  private ref(path: string, type: string, sourcedId: string): WireObject {
    return { href: `${this.baseUrl}/${path}/${encodeURIComponent(sourcedId)}`, sourcedId, type };
  }

  private bool(value: boolean | null): boolean | string | null {
    if (value === null) return null;
    return this.booleansAsStrings ? String(value) : value;
  }

  private put(wire: WireObject, key: string, value: unknown): void {
    if (value !== null && value !== undefined && value !== '') {
      wire[key] = value;
      return;
    }
    if (this.emptyValues === 'null') wire[key] = null;
    else if (this.emptyValues === 'empty-string') wire[key] = '';
  }
}

const ONEROSTER_11_ROLE_OF_ENROLLMENT = {
  administrator: 'administrator',
  aide: 'aide',
  proctor: 'proctor',
  student: 'student',
  teacher: 'teacher',
} as const;

function addChild(children: Map<string, string[]>, parent: string | null, child: string): void {
  if (!parent) return;
  let list = children.get(parent);
  if (!list) children.set(parent, (list = []));
  list.push(child);
}
