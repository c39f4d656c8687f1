import {
  ACADEMIC_SESSION_TYPES,
  CLASS_TYPES,
  ENROLLMENT_ROLES,
  isExtensionValue,
  ORG_TYPES,
  PERSON_ROLES,
  ROSTER_APPLY_ORDER,
  type AcademicSessionRecord,
  type ClassRecord,
  type CourseRecord,
  type DemographicsRecord,
  type EnrollmentRecord,
  type ExtensionValue,
  type ExtensionVocabulary,
  type OrgRecord,
  type PersonRecord,
  type PersonRole,
  type PersonRoleMembership,
  type RosterEntity,
  type RosterRecord,
  type SourceRecordBase,
  type SourceStatus,
} from '@app/contracts';
import { shapeOf, type OneRosterIgnoredValue } from './oneroster-ignored-values.js';
import type { OneRosterVersion } from './oneroster-version.js';
import { booleanOf, calendarDateOf, instantOf, listOf, schoolYearOf, textOf, userIdsOf } from './oneroster-values.js';
import type { OneRosterVocabulary } from './oneroster-vocabulary.js';

/** A record that cannot be normalised: the caller reports it and skips the record. Never carries values. */
export interface OneRosterRecordIssue {
  entity: RosterEntity;
  sourcedId: string | null;
  field: string | null;
  message: string;
}

/**
 * `ignored`: bad values the record was kept without (a `dateLastModified` that is not ISO 8601 is read as absent),
 * for the caller to report once per entity (`IgnoredValueTally`). Absent when there are none.
 */
export type NormaliseResult<T> =
  { ok: true; record: T; ignored?: OneRosterIgnoredValue[] } | { ok: false; issue: OneRosterRecordIssue };

/** One row of 1.2 `roles.csv`, ready to be joined onto its user. */
export interface OneRosterCsvRole {
  userSourcedId: string;
  status: SourceStatus;
  membership: PersonRoleMembership;
}

const ROLES_1_1: readonly PersonRole[] = [
  'administrator',
  'aide',
  'guardian',
  'parent',
  'proctor',
  'relative',
  'student',
  'teacher',
];
const SEXES = ['male', 'female', 'unspecified', 'other'] as const;
const ROLE_TYPES = ['primary', 'secondary'] as const;
const METADATA_PREFIX = 'metadata.';

/**
 * REST fields that are GUIDRefs (`{ sourcedId, href, type }`), by the flat CSV name they become. Everything else
 * a REST record carries either has its CSV name already, is dropped on purpose, or is kept in `metadata`.
 */
const REST_REFERENCES: Readonly<Record<RosterEntity, Readonly<Record<string, string>>>> = {
  orgs: { parent: 'parentSourcedId' },
  academicSessions: { parent: 'parentSourcedId', org: 'orgSourcedId' },
  courses: { schoolYear: 'schoolYearSourcedId', org: 'orgSourcedId' },
  classes: { course: 'courseSourcedId', school: 'schoolSourcedId', terms: 'termSourcedIds' },
  people: { orgs: 'orgSourcedIds', agents: 'agentSourcedIds', primaryOrg: 'primaryOrgSourcedId' },
  demographics: {},
  enrollments: { user: 'userSourcedId', class: 'classSourcedId', school: 'schoolSourcedId' },
};

const REST_RENAMES: Readonly<Partial<Record<RosterEntity, Readonly<Record<string, string>>>>> = {
  people: {
    preferredFirstName: 'preferredGivenName',
    preferredMiddleName: 'preferredMiddleName',
    preferredLastName: 'preferredFamilyName',
  },
};

const LIFECYCLE_FIELDS = ['sourcedId', 'status', 'dateLastModified'];

/** REST fields read under their own name (the CSV column names), per entity. */
const FLAT_FIELDS: Readonly<Record<RosterEntity, readonly string[]>> = {
  orgs: [...LIFECYCLE_FIELDS, 'name', 'type', 'identifier'],
  academicSessions: [...LIFECYCLE_FIELDS, 'title', 'type', 'startDate', 'endDate', 'schoolYear'],
  courses: [...LIFECYCLE_FIELDS, 'title', 'courseCode', 'grades', 'subjects', 'subjectCodes'],
  classes: [
    ...LIFECYCLE_FIELDS,
    'title',
    'grades',
    'classCode',
    'classType',
    'location',
    'subjects',
    'subjectCodes',
    'periods',
  ],
  people: [
    ...LIFECYCLE_FIELDS,
    'enabledUser',
    'role',
    'username',
    'userIds',
    'givenName',
    'familyName',
    'middleName',
    'identifier',
    'email',
    'sms',
    'phone',
    'grades',
    'userMasterIdentifier',
    'pronouns',
  ],
  demographics: [
    ...LIFECYCLE_FIELDS,
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
  enrollments: [...LIFECYCLE_FIELDS, 'role', 'primary', 'beginDate', 'endDate'],
};

/**
 * Known fields deliberately not kept: derivable links (`children`), credentials (`password`, `userProfiles`) and
 * resource links outside rostering. `roles` is read on its own.
 */
const REST_DROPPED: Readonly<Partial<Record<RosterEntity, readonly string[]>>> = {
  orgs: ['children'],
  academicSessions: ['children'],
  courses: ['resources'],
  classes: ['resources'],
  people: ['password', 'userProfiles', 'resources', 'roles'],
};

/** Spec fields the roster contract has no place for, kept in `metadata` under their own name. */
const KEPT_IN_METADATA: Readonly<Partial<Record<RosterEntity, readonly string[]>>> = {
  courses: ['subjectCodes'],
  classes: ['subjectCodes'],
  people: ['userMasterIdentifier', 'preferredMiddleName'],
};

/** Field lists as sets, built once: building them per record was a measurable share of normalising. */
function setsByEntity(
  lists: Readonly<Partial<Record<RosterEntity, readonly string[]>>>,
): Readonly<Record<RosterEntity, ReadonlySet<string>>> {
  const sets = {} as Record<RosterEntity, ReadonlySet<string>>;
  for (const entity of ROSTER_APPLY_ORDER) sets[entity] = new Set(lists[entity] ?? []);
  return sets;
}
const REST_KNOWN = setsByEntity(FLAT_FIELDS);
const REST_DROPPED_SETS = setsByEntity(REST_DROPPED);
const SOURCE_STATUSES = ['active', 'tobedeleted', 'inactive'] as const;

class RecordProblem extends Error {
  constructor(
    readonly field: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** Where a record is read: its entity, version and the run's extension vocabulary (if any). */
interface ReadContext {
  entity: RosterEntity;
  version: OneRosterVersion;
  vocabulary?: OneRosterVocabulary;
}

/** Typed, validating reads over a record flattened to CSV names. */
class FlatFields {
  /** Extension values read so far, as given, by field. */
  // Allocated on the first extension value only: most records carry none, and normalising is a hot path.
  extensionValues: Record<string, ExtensionValue> | null = null;
  /** The mappable vocabulary of each of them (null: stored as given, nothing derived). */
  extensionVocabularies: Record<string, ExtensionVocabulary | null> | null = null;

  constructor(
    private readonly values: Readonly<Record<string, unknown>>,
    private readonly context?: ReadContext,
  ) {}

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  raw(name: string): unknown {
    return this.values[name];
  }

  text(name: string): string | null {
    return this.read(name, textOf, 'is not text');
  }

  requiredText(name: string): string {
    return this.required(name, this.text(name));
  }

  list(name: string): string[] {
    return this.read(name, listOf, 'is not a list') ?? [];
  }

  requiredList(name: string): string[] {
    const items = this.list(name);
    if (items.length === 0) throw new RecordProblem(name, `${name} is required`);
    return items;
  }

  boolean(name: string): boolean | null {
    return this.read(name, booleanOf, 'must be true or false');
  }

  requiredBoolean(name: string): boolean {
    return this.required(name, this.boolean(name));
  }

  calendarDate(name: string): string | null {
    return this.read(name, calendarDateOf, 'is not a date (YYYY-MM-DD)');
  }

  requiredCalendarDate(name: string): string {
    return this.required(name, this.calendarDate(name));
  }

  instant(name: string): string | null {
    return this.read(name, instantOf, 'is not an ISO 8601 date-time');
  }

  requiredSchoolYear(name: string): number {
    return this.required(name, this.read(name, schoolYearOf, 'is not a school year (the ending year, YYYY)'));
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | null {
    const text = this.text(name);
    if (text === null) return null;
    const match = (allowed as readonly string[]).includes(text)
      ? (text as T)
      : allowed.find((value) => value.toLowerCase() === text.toLowerCase());
    if (match === undefined) throw new RecordProblem(name, `${name} must be one of ${allowed.join(', ')}`);
    return match;
  }

  requiredOneOf<T extends string>(name: string, allowed: readonly T[]): T {
    return this.required(name, this.oneOf(name, allowed));
  }

  /**
   * A value of an extensible vocabulary: a core value (any case), or under OneRoster 1.2 an extension value
   * `ext:[a-zA-Z0-9.\-_]+`, which is kept as given (`extensionValues`) and read as the meaning the connection maps
   * it to (or as itself, which no product rule takes for a core value). 1.1 has no extensions.
   */
  extensible<T extends string>(
    name: string,
    allowed: readonly T[],
    vocabulary: ExtensionVocabulary | null,
  ): T | ExtensionValue | null {
    const text = this.text(name);
    if (text === null) return null;
    const core = (allowed as readonly string[]).includes(text)
      ? (text as T)
      : allowed.find((value) => value.toLowerCase() === text.toLowerCase());
    if (core !== undefined) return core;
    const context = this.context;
    if (context?.version === '1.2' && isExtensionValue(text)) {
      (this.extensionValues ??= {})[name] = text;
      (this.extensionVocabularies ??= {})[name] = vocabulary;
      const meaning = context.vocabulary && vocabulary !== null ? context.vocabulary.meaning(vocabulary, text) : text;
      return meaning as T | ExtensionValue;
    }
    const extension =
      context?.version === '1.2'
        ? ', or an extension value ext: followed by letters, digits, ".", "-" or "_"'
        : text.startsWith('ext:')
          ? ' (OneRoster 1.1 has no extension values)'
          : '';
    throw new RecordProblem(name, `${name} must be one of ${allowed.join(', ')}${extension}`);
  }

  requiredExtensible<T extends string>(
    name: string,
    allowed: readonly T[],
    vocabulary: ExtensionVocabulary,
  ): T | ExtensionValue {
    return this.required(name, this.extensible(name, allowed, vocabulary));
  }

  private read<T>(name: string, parse: (value: unknown) => T | null | undefined, problem: string): T | null {
    const parsed = parse(this.values[name]);
    if (parsed === undefined) throw new RecordProblem(name, `${name} ${problem}`);
    return parsed;
  }

  private required<T>(name: string, value: T | null): T {
    if (value === null) throw new RecordProblem(name, `${name} is required`);
    return value;
  }
}

interface BuildContext extends ReadContext {
  binding: 'rest' | 'csv';
  /** 1.2 role memberships (REST `roles[]`, or joined from roles.csv); undefined for the 1.1 `role` + `orgs` shape. */
  memberships?: PersonRoleMembership[];
  /** Filled by `build` with the values it ignored. */
  ignored?: OneRosterIgnoredValue[];
}

/** Builds what a record of `E` has beyond the `SourceRecordBase` fields (`build` joins the two). */
type Builder<E extends RosterEntity> = (
  fields: FlatFields,
  context: BuildContext,
) => Omit<RosterRecord<E>, keyof SourceRecordBase>;

const BUILDERS: { [E in RosterEntity]: Builder<E> } = {
  orgs: (f): Omit<OrgRecord, keyof SourceRecordBase> => ({
    name: f.requiredText('name'),
    type: f.requiredExtensible('type', ORG_TYPES, 'orgType'),
    identifier: f.text('identifier'),
    parentSourcedId: f.text('parentSourcedId'),
  }),
  academicSessions: (f): Omit<AcademicSessionRecord, keyof SourceRecordBase> => ({
    title: f.requiredText('title'),
    type: f.requiredExtensible('type', ACADEMIC_SESSION_TYPES, 'sessionType'),
    startDate: f.requiredCalendarDate('startDate'),
    endDate: f.requiredCalendarDate('endDate'),
    schoolYear: f.requiredSchoolYear('schoolYear'),
    parentSourcedId: f.text('parentSourcedId'),
    orgSourcedId: f.text('orgSourcedId'),
  }),
  courses: (f, context): Omit<CourseRecord, keyof SourceRecordBase> => ({
    title: f.requiredText('title'),
    courseCode: f.text('courseCode'),
    grades: f.list('grades'),
    subjects: f.list('subjects'),
    // Required by the CSV binding and 1.1; optional in the 1.2 REST binding (CourseDType).
    orgSourcedId:
      context.version === '1.2' && context.binding === 'rest' ? f.text('orgSourcedId') : f.requiredText('orgSourcedId'),
    schoolYearSourcedId: f.text('schoolYearSourcedId'),
  }),
  classes: (f, context): Omit<ClassRecord, keyof SourceRecordBase> => ({
    title: f.requiredText('title'),
    classCode: f.text('classCode'),
    // Required by the CSV binding and 1.1; optional in the 1.2 REST binding (ClassDType).
    classType:
      context.version === '1.2' && context.binding === 'rest'
        ? f.extensible('classType', CLASS_TYPES, 'classType')
        : f.requiredExtensible('classType', CLASS_TYPES, 'classType'),
    location: f.text('location'),
    grades: f.list('grades'),
    subjects: f.list('subjects'),
    periods: f.list('periods'),
    courseSourcedId: f.requiredText('courseSourcedId'),
    schoolSourcedId: f.requiredText('schoolSourcedId'),
    termSourcedIds: f.requiredList('termSourcedIds'),
  }),
  people: (f, context): Omit<PersonRecord, keyof SourceRecordBase> => {
    let roles: PersonRoleMembership[];
    if (context.memberships !== undefined) {
      roles = context.memberships;
      if (roles.length === 0) throw new RecordProblem('roles', 'The user has no role');
    } else {
      const role = f.requiredExtensible('role', ROLES_1_1, 'role');
      roles = f.requiredList('orgSourcedIds').map((orgSourcedId) => ({
        role,
        roleType: 'primary' as const,
        orgSourcedId,
        beginDate: null,
        endDate: null,
      }));
    }
    const primary = roles.find((membership) => membership.roleType === 'primary') ?? roles[0];
    const orgSourcedIds = [...new Set(roles.map((membership) => membership.orgSourcedId).filter((id) => id !== null))];
    const usernameRequired = context.binding === 'csv' || context.version === '1.1';
    return {
      givenName: f.requiredText('givenName'),
      familyName: f.requiredText('familyName'),
      middleName: f.text('middleName'),
      preferredFirstName: f.text('preferredGivenName'),
      preferredLastName: f.text('preferredFamilyName'),
      pronouns: f.text('pronouns'),
      username: usernameRequired ? f.requiredText('username') : f.text('username'),
      email: f.text('email'),
      identifier: f.text('identifier'),
      enabled: f.requiredBoolean('enabledUser'),
      roles,
      primaryRole: primary.role,
      orgSourcedIds,
      primaryOrgSourcedId:
        f.text('primaryOrgSourcedId') ?? (context.memberships === undefined ? (orgSourcedIds[0] ?? null) : null),
      grades: f.list('grades'),
      agentSourcedIds: f.list('agentSourcedIds'),
      userIds: readUserIds(f),
      phone: f.text('phone'),
      sms: f.text('sms'),
      sourceAliases: [],
    };
  },
  demographics: (f): Omit<DemographicsRecord, keyof SourceRecordBase> => ({
    birthDate: f.calendarDate('birthDate'),
    sex: demographicsSex(f),
    race: {
      americanIndianOrAlaskaNative: f.boolean('americanIndianOrAlaskaNative'),
      asian: f.boolean('asian'),
      blackOrAfricanAmerican: f.boolean('blackOrAfricanAmerican'),
      nativeHawaiianOrOtherPacificIslander: f.boolean('nativeHawaiianOrOtherPacificIslander'),
      white: f.boolean('white'),
      demographicRaceTwoOrMoreRaces: f.boolean('demographicRaceTwoOrMoreRaces'),
    },
    hispanicOrLatino: f.boolean('hispanicOrLatinoEthnicity'),
    countryOfBirthCode: f.text('countryOfBirthCode'),
    stateOfBirth: f.text('stateOfBirthAbbreviation'),
    cityOfBirth: f.text('cityOfBirth'),
    publicSchoolResidenceStatus: f.text('publicSchoolResidenceStatus'),
  }),
  enrollments: (f): Omit<EnrollmentRecord, keyof SourceRecordBase> => ({
    classSourcedId: f.requiredText('classSourcedId'),
    schoolSourcedId: f.requiredText('schoolSourcedId'),
    userSourcedId: f.requiredText('userSourcedId'),
    role: f.requiredExtensible('role', ENROLLMENT_ROLES, 'enrollmentRole'),
    primary: f.boolean('primary') ?? false,
    beginDate: f.calendarDate('beginDate'),
    endDate: f.calendarDate('endDate'),
  }),
};

/**
 * A OneRoster REST record (1.1 or 1.2 JSON) as the roster record of `entity` (`people` for users). The user shape
 * is recognised from the payload, not the label: `roles[]` (1.2) or `role` + `orgs[]` (1.1).
 */
export function normaliseRestRecord<E extends RosterEntity>(
  entity: E,
  raw: unknown,
  version: OneRosterVersion,
  vocabulary?: OneRosterVocabulary,
): NormaliseResult<RosterRecord<E>> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, issue: { entity, sourcedId: null, field: null, message: 'The record is not a JSON object' } };
  }
  const source = raw as Record<string, unknown>;
  const sourcedId =
    typeof source.sourcedId === 'string' && source.sourcedId.trim() !== '' ? source.sourcedId.trim() : null;
  // One context object for the fields and the builder: allocations per record show in the sync's throughput.
  const context: BuildContext = { entity, version, vocabulary, binding: 'rest' };
  return attempt(entity, sourcedId, context, () => {
    const references = REST_REFERENCES[entity];
    const renames: Readonly<Record<string, string>> = REST_RENAMES[entity] ?? {};
    const known = REST_KNOWN[entity];
    const dropped = REST_DROPPED_SETS[entity];
    const flat: Record<string, unknown> = {};
    const metadata: Record<string, unknown> = {};
    for (const name of Object.keys(source)) {
      if (name === 'metadata') continue;
      const value = source[name];
      if (Object.hasOwn(references, name)) flat[references[name]] = referencedIds(name, value);
      else if (Object.hasOwn(renames, name)) flat[renames[name]] = value;
      else if (known.has(name)) flat[name] = value;
      else if (!dropped.has(name)) metadata[name] = value;
    }
    if (isPlainObject(source.metadata)) Object.assign(metadata, source.metadata);
    if (entity === 'people' && (Array.isArray(source.roles) || (source.role === undefined && version === '1.2'))) {
      context.memberships = restMemberships(source.roles, context);
    }
    return build(entity, new FlatFields(flat, context), metadata, context);
  });
}

/**
 * A OneRoster CSV row (values by column) as the roster record of `entity`. For 1.2 users pass the memberships
 * joined from roles.csv; 1.1 users carry `role` and `orgSourcedIds` themselves.
 */
export function normaliseCsvRow<E extends RosterEntity>(
  entity: E,
  values: Readonly<Record<string, string>>,
  context: { version: OneRosterVersion; memberships?: PersonRoleMembership[]; vocabulary?: OneRosterVocabulary },
): NormaliseResult<RosterRecord<E>> {
  const sourcedId = textOf(values.sourcedId) ?? null;
  const buildContext: BuildContext = {
    entity,
    version: context.version,
    vocabulary: context.vocabulary,
    binding: 'csv',
  };
  return attempt(entity, sourcedId, buildContext, () => {
    const metadata: Record<string, unknown> = {};
    for (const [column, value] of Object.entries(values)) {
      if (column.startsWith(METADATA_PREFIX) && value.trim() !== '')
        metadata[column.slice(METADATA_PREFIX.length)] = value;
    }
    if (entity === 'people' && context.version === '1.2') buildContext.memberships = context.memberships ?? [];
    return build(entity, new FlatFields(values, buildContext), metadata, buildContext);
  });
}

/**
 * A 1.2 roles.csv row, to be joined onto users by `userSourcedId`. Issues are reported on `people`; so are its
 * notices (an unmapped extension role, an `inactive` status).
 */
export function normaliseCsvRole(
  values: Readonly<Record<string, string>>,
  vocabulary?: OneRosterVocabulary,
): NormaliseResult<OneRosterCsvRole> {
  const sourcedId = textOf(values.sourcedId) ?? null;
  return attempt('people', sourcedId, undefined, () => {
    const f = new FlatFields(values, { entity: 'people', version: '1.2', vocabulary });
    f.requiredText('sourcedId');
    return {
      userSourcedId: f.requiredText('userSourcedId'),
      status: statusOf(f, 'people', vocabulary),
      membership: membershipOf(f),
    };
  });
}

/** A 1.2 role membership from its flat fields; an extension role keeps its source value in `sourceRole`. */
function membershipOf(f: FlatFields): PersonRoleMembership {
  const role = f.requiredExtensible('role', PERSON_ROLES, 'role');
  const membership: PersonRoleMembership = {
    role,
    roleType: f.requiredOneOf('roleType', ROLE_TYPES),
    orgSourcedId: f.requiredText('orgSourcedId'),
    beginDate: f.calendarDate('beginDate'),
    endDate: f.calendarDate('endDate'),
  };
  const given = f.extensionValues?.role;
  if (given !== undefined) membership.sourceRole = given;
  return membership;
}

function build<E extends RosterEntity>(
  entity: E,
  fields: FlatFields,
  metadata: Record<string, unknown>,
  context: BuildContext,
): RosterRecord<E> {
  for (const name of KEPT_IN_METADATA[entity] ?? []) {
    const value = fields.raw(name);
    if (value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0)) {
      metadata[name] = value;
    }
  }
  const base: SourceRecordBase = {
    sourcedId: fields.requiredText('sourcedId'),
    status: statusOf(fields, entity, context.vocabulary),
    dateLastModified: lenientInstant(fields, 'dateLastModified', context),
    metadata,
  };
  // Joined with Object.assign: an object spread of `base` into each builder's literal cost V8 more than the
  // rest of normalising a record (measured: 18 µs → 7 µs per enrollment).
  const record = Object.assign(base, (BUILDERS[entity] as Builder<E>)(fields, context)) as RosterRecord<E>;
  const given = fields.extensionValues;
  if (given !== null) {
    record.extensionValues = given;
    for (const field in given) {
      // Counted once the record is read: a refused record's extension values are not the run's vocabulary.
      const vocabulary = fields.extensionVocabularies?.[field] ?? null;
      if (vocabulary !== null && (record as unknown as Record<string, unknown>)[field] === given[field]) {
        context.vocabulary?.noteUnmapped(vocabulary, entity, field, given[field]);
      }
    }
  }
  if (entity === 'people' && context.vocabulary !== undefined) {
    for (const membership of (record as PersonRecord).roles) {
      if (membership.sourceRole !== undefined && membership.role === membership.sourceRole) {
        context.vocabulary?.noteUnmapped('role', entity, 'roles.role', membership.sourceRole);
      }
    }
  }
  return record;
}

function attempt<T>(
  entity: RosterEntity,
  sourcedId: string | null,
  context: BuildContext | undefined,
  run: () => T,
): NormaliseResult<T> {
  try {
    const record = run();
    return context?.ignored === undefined ? { ok: true, record } : { ok: true, record, ignored: context.ignored };
  } catch (error) {
    if (!(error instanceof RecordProblem)) throw error;
    return { ok: false, issue: { entity, sourcedId, field: error.field, message: error.message } };
  }
}

/**
 * An instant the record can do without: one that is not ISO 8601 (`1/05/2023`) is read as absent and noted in
 * `context.ignored` (by shape), instead of dropping the record.
 */
function lenientInstant(fields: FlatFields, name: string, context: BuildContext): string | null {
  const raw = fields.raw(name);
  const instant = instantOf(raw);
  if (instant !== undefined) return instant;
  (context.ignored ??= []).push({ field: name, problem: 'is not an ISO 8601 date-time', shape: shapeOf(raw) });
  return null;
}

/**
 * Blank (bulk CSV) is active. OneRoster 1.0's `inactive` was removed in 1.1, and the 1.1 and 1.2 specifications say
 * such records are to be read as `tobedeleted`: so they are, and the run says so once (`noteInactive`).
 */
function statusOf(fields: FlatFields, entity: RosterEntity, vocabulary: OneRosterVocabulary | undefined): SourceStatus {
  const status = fields.oneOf('status', SOURCE_STATUSES);
  if (status === 'inactive') vocabulary?.noteInactive(entity);
  return status === 'tobedeleted' || status === 'inactive' ? 'tobedeleted' : 'active';
}

/** Demographics `sex`: a core value, or a 1.2 extension value stored as given (nothing is derived from it). */
function demographicsSex(fields: FlatFields): DemographicsRecord['sex'] {
  return fields.extensible('sex', SEXES, null);
}

function readUserIds(fields: FlatFields): { type: string; identifier: string }[] {
  const ids = userIdsOf(fields.raw('userIds'));
  if (ids === undefined) throw new RecordProblem('userIds', 'userIds is not a list of {type:identifier}');
  return ids;
}

/** A GUIDRef or list of GUIDRefs as sourcedIds; a bare string id is accepted too. */
function referencedIds(field: string, value: unknown): string | string[] | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value))
    return value.map((item) => referencedId(field, item)).filter((id): id is string => id !== null);
  return referencedId(field, value);
}

function referencedId(field: string, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (isPlainObject(value)) {
    const id = value.sourcedId;
    if (id === null || id === undefined || id === '') return null;
    if (typeof id === 'string') return id.trim();
  }
  throw new RecordProblem(field, `${field} is not a reference ({ sourcedId })`);
}

function restMemberships(value: unknown, context: ReadContext): PersonRoleMembership[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new RecordProblem('roles', 'roles is not a list');
  return value.map((item, index) => {
    try {
      return restMembership(item, context);
    } catch (error) {
      if (!(error instanceof RecordProblem)) throw error;
      const field = error.field === null ? `roles[${index}]` : `roles[${index}].${error.field}`;
      throw new RecordProblem(field, `roles[${index}]: ${error.message}`);
    }
  });
}

function restMembership(item: unknown, context: ReadContext): PersonRoleMembership {
  if (!isPlainObject(item)) throw new RecordProblem(null, 'the role is not an object');
  const f = new FlatFields(
    {
      role: item.role,
      roleType: item.roleType,
      orgSourcedId: referencedId('org', item.org),
      beginDate: item.beginDate,
      endDate: item.endDate,
    },
    context,
  );
  return membershipOf(f);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
