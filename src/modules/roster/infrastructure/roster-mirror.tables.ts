import type { RosterEntity } from '@app/contracts';

/** A column of a mirror table and the SQL that computes it from a staged record `p` (jsonb). */
interface ColumnMapping {
  column: string;
  from: string;
}

/**
 * A reference from a record to another record of the same connection. Every reference is checked the same way and
 * reported the same way: when the apply writes a record (creates, updates or restores it; an unchanged record is
 * not written), each sourcedId it names must be an active record of the connection, and each one that is not is one
 * issue for the record and field: `<field> "<sourcedId>" is not an active record of this connection`.
 * - `required`: the record cannot stand without it (a class's course and school, an enrollment's class and person,
 *   the person of demographics). The record is skipped (an error; the mirror keeps what it had), and a run's
 *   preview counts it as a `skip` (checked against the mirror plus what the same change set brings and would apply).
 *   A required reference left empty (null) counts as missing.
 * - optional (`required: false`): descriptive and list references (a class's terms, a course's org and school
 *   year, a session's parent and org, an org's parent, a person's orgs and agents, an enrollment's school). The
 *   record is kept as received and each missing sourcedId is a warning; a record of the same change set counts,
 *   and an empty one (null, `[]`) names nothing.
 * `department`: the reference names an org that places the record in a school; a department that resolves to no
 * school (see `roster_orgs.school_sourced_id`) leaves the record in none, which is a warning.
 */
export interface MirrorReference {
  field: string;
  /** SQL over a staged payload (the argument, jsonb): the sourcedId named (text), or with `list` a jsonb array. */
  value: (payload: string) => string;
  list?: boolean;
  entity: RosterEntity;
  table: string;
  required: boolean;
  department?: boolean;
}

/** A mirror column naming a record of another mirror table: the row cannot stay active once that record is not. */
interface ParentReference {
  column: string;
  table: string;
}

export interface MirrorTable {
  table: string;
  columns: readonly ColumnMapping[];
  references: readonly MirrorReference[];
  /** The mirror-column form of the required references: what a deactivation of a parent takes along. */
  parents: readonly ParentReference[];
  /** SQL predicate over alias `t` (a mirror row) with `$scope` (text[] of school sourcedIds) for scoped absence. */
  inScope: string;
  /** Columns besides the source key whose statistics the sync's own queries are planned on. */
  plannedOn?: readonly string[];
}

const text = (field: string): string => `p->>'${field}'`;
const date = (field: string): string => `(p->>'${field}')::date`;
const list = (field: string): string => `coalesce(p->'${field}', '[]'::jsonb)`;
/** OneRoster 1.2 extension values as given, by field; the typed columns hold their meaning. */
const EXTENSION_VALUES: ColumnMapping = {
  column: 'extension_values',
  from: `coalesce(p->'extensionValues', '{}'::jsonb)`,
};

const REFERENCED: Readonly<Record<'orgs' | 'academicSessions' | 'courses' | 'classes' | 'people', string>> = {
  orgs: 'roster_orgs',
  academicSessions: 'roster_academic_sessions',
  courses: 'roster_courses',
  classes: 'roster_classes',
  people: 'roster_people',
};

function reference(
  field: string,
  entity: keyof typeof REFERENCED,
  required: boolean,
  shape: { list?: boolean; department?: boolean } = {},
): MirrorReference {
  return {
    field,
    value: shape.list
      ? (payload) =>
          `(CASE WHEN jsonb_typeof(${payload}->'${field}') = 'array' THEN ${payload}->'${field}' ELSE '[]'::jsonb END)`
      : (payload) => `(${payload}->>'${field}')`,
    ...(shape.list ? { list: true } : {}),
    entity,
    table: REFERENCED[entity],
    required,
    ...(shape.department ? { department: true } : {}),
  };
}

export const MIRROR_TABLES: Readonly<Record<RosterEntity, MirrorTable>> = {
  orgs: {
    table: 'roster_orgs',
    columns: [
      { column: 'name', from: text('name') },
      { column: 'type', from: text('type') },
      { column: 'identifier', from: text('identifier') },
      { column: 'parent_sourced_id', from: text('parentSourcedId') },
      EXTENSION_VALUES,
    ],
    references: [reference('parentSourcedId', 'orgs', false)],
    parents: [],
    inScope: `t.sourced_id = ANY($scope)`,
  },
  academicSessions: {
    table: 'roster_academic_sessions',
    columns: [
      { column: 'title', from: text('title') },
      { column: 'type', from: text('type') },
      { column: 'start_date', from: date('startDate') },
      { column: 'end_date', from: date('endDate') },
      { column: 'school_year', from: `(p->>'schoolYear')::integer` },
      { column: 'parent_sourced_id', from: text('parentSourcedId') },
      { column: 'org_sourced_id', from: text('orgSourcedId') },
      EXTENSION_VALUES,
    ],
    references: [reference('parentSourcedId', 'academicSessions', false), reference('orgSourcedId', 'orgs', false)],
    parents: [],
    inScope: `t.org_sourced_id = ANY($scope)`,
  },
  courses: {
    table: 'roster_courses',
    columns: [
      { column: 'title', from: text('title') },
      { column: 'course_code', from: text('courseCode') },
      { column: 'grades', from: list('grades') },
      { column: 'subjects', from: list('subjects') },
      { column: 'org_sourced_id', from: text('orgSourcedId') },
      { column: 'school_year_sourced_id', from: text('schoolYearSourcedId') },
    ],
    references: [reference('orgSourcedId', 'orgs', false), reference('schoolYearSourcedId', 'academicSessions', false)],
    parents: [],
    inScope: `t.org_sourced_id = ANY($scope)`,
  },
  classes: {
    table: 'roster_classes',
    columns: [
      { column: 'title', from: text('title') },
      { column: 'class_code', from: text('classCode') },
      { column: 'class_type', from: text('classType') },
      { column: 'location', from: text('location') },
      { column: 'grades', from: list('grades') },
      { column: 'subjects', from: list('subjects') },
      { column: 'periods', from: list('periods') },
      { column: 'course_sourced_id', from: text('courseSourcedId') },
      { column: 'school_sourced_id', from: text('schoolSourcedId') },
      { column: 'term_sourced_ids', from: list('termSourcedIds') },
      EXTENSION_VALUES,
    ],
    references: [
      reference('courseSourcedId', 'courses', true),
      reference('schoolSourcedId', 'orgs', true, { department: true }),
      reference('termSourcedIds', 'academicSessions', false, { list: true }),
    ],
    parents: [{ column: 'course_sourced_id', table: 'roster_courses' }],
    inScope: `t.school_sourced_id = ANY($scope)`,
  },
  people: {
    table: 'roster_people',
    columns: [
      { column: 'given_name', from: text('givenName') },
      { column: 'family_name', from: text('familyName') },
      { column: 'middle_name', from: text('middleName') },
      { column: 'preferred_first_name', from: text('preferredFirstName') },
      { column: 'preferred_last_name', from: text('preferredLastName') },
      { column: 'pronouns', from: text('pronouns') },
      { column: 'username', from: text('username') },
      { column: 'email', from: text('email') },
      { column: 'identifier', from: text('identifier') },
      { column: 'enabled', from: `coalesce((p->>'enabled')::boolean, true)` },
      { column: 'roles', from: list('roles') },
      { column: 'primary_role', from: text('primaryRole') },
      { column: 'org_sourced_ids', from: list('orgSourcedIds') },
      { column: 'primary_org_sourced_id', from: text('primaryOrgSourcedId') },
      { column: 'grades', from: list('grades') },
      { column: 'agent_sourced_ids', from: list('agentSourcedIds') },
      { column: 'user_ids', from: list('userIds') },
      { column: 'source_aliases', from: list('sourceAliases') },
      { column: 'phone', from: text('phone') },
      { column: 'sms', from: text('sms') },
      { column: 'search_text', from: `coalesce(c.search_text, '')` },
    ],
    references: [
      reference('orgSourcedIds', 'orgs', false, { list: true, department: true }),
      reference('agentSourcedIds', 'people', false, { list: true }),
    ],
    parents: [],
    inScope: `t.org_sourced_ids ?| $scope`,
    // Partial-index predicates: the alias lookup of every pull and the sticky-conflict check of the apply.
    plannedOn: ['source_aliases', 'local_overrides'],
  },
  demographics: {
    table: 'roster_demographics',
    columns: [
      { column: 'birth_date', from: date('birthDate') },
      { column: 'sex', from: text('sex') },
      { column: 'race', from: `coalesce(p->'race', '{}'::jsonb)` },
      { column: 'hispanic_or_latino', from: `(p->>'hispanicOrLatino')::boolean` },
      { column: 'country_of_birth_code', from: text('countryOfBirthCode') },
      { column: 'state_of_birth', from: text('stateOfBirth') },
      { column: 'city_of_birth', from: text('cityOfBirth') },
      { column: 'public_school_residence_status', from: text('publicSchoolResidenceStatus') },
      EXTENSION_VALUES,
    ],
    references: [reference('sourcedId', 'people', true)],
    parents: [{ column: 'sourced_id', table: 'roster_people' }],
    inScope: `EXISTS (SELECT 1 FROM roster_people pp WHERE pp.connection_id = t.connection_id
                AND pp.sourced_id = t.sourced_id AND pp.org_sourced_ids ?| $scope)`,
  },
  enrollments: {
    table: 'roster_enrollments',
    columns: [
      { column: 'class_sourced_id', from: text('classSourcedId') },
      { column: 'school_sourced_id', from: text('schoolSourcedId') },
      { column: 'user_sourced_id', from: text('userSourcedId') },
      { column: 'role', from: text('role') },
      { column: 'is_primary', from: `coalesce((p->>'primary')::boolean, false)` },
      { column: 'begin_date', from: date('beginDate') },
      { column: 'end_date', from: date('endDate') },
      EXTENSION_VALUES,
    ],
    references: [
      reference('classSourcedId', 'classes', true),
      reference('userSourcedId', 'people', true),
      reference('schoolSourcedId', 'orgs', false),
    ],
    parents: [
      { column: 'class_sourced_id', table: 'roster_classes' },
      { column: 'user_sourced_id', table: 'roster_people' },
    ],
    inScope: `t.school_sourced_id = ANY($scope)`,
  },
};

/** SIS-provided person fields that district staff may edit in Homeroom, with their columns. */
export const LOCALLY_EDITABLE_PERSON_COLUMNS: Readonly<Record<string, string>> = {
  preferredFirstName: 'preferred_first_name',
  preferredLastName: 'preferred_last_name',
  pronouns: 'pronouns',
  phone: 'phone',
  sms: 'sms',
};
