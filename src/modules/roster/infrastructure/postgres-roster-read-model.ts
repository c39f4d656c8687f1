import type { EnrollmentRole, PersonRole } from '@app/contracts';
import { runSql } from '@app/persistence';
import { Clock } from '@app/ddd';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { RosterConfig } from '../../../config/index.js';
import {
  RosterReadModel,
  type ClassFilter,
  type ClassPosition,
  type RankedStaff,
  type RankedStudent,
  type RankedStudentPosition,
  type SchoolPosition,
  type SchoolRecord,
  type SourcedStudentReference,
  type StaffFilter,
  type StudentFilter,
  type StudentPosition,
} from '../application/ports/roster-read-model.port.js';
import type { ClassAccessFacts, RosterAccessScope, SchoolReference } from '../application/roster-access-scope.js';
import type {
  ClassMemberView,
  ClassView,
  ClassWithAccess,
  DemographicsView,
  GuardianView,
  RecordSourceView,
  SchoolSummaryView,
  SchoolView,
  SourcedView,
  StaffView,
  StaffWithAccess,
  StudentEnrollmentView,
  StudentView,
  StudentWithAccess,
} from '../application/roster-views.js';
import { accessWindow, type AccessWindow } from '../domain/enrollment-window.js';
import { isRosterId } from '../domain/roster-id.js';
import { STAFF_ENROLLMENT_ROLES, STAFF_ROLES } from '../domain/staff-roles.js';
import { joinSql, sql, SqlFragment } from './sql-fragment.js';

/**
 * Below the default 0.6 so that a typo in a short query still matches ("jsoe nunez" scores 0.55 against José
 * Núñez). Set per transaction because the GIN index serves only the `<%` operator, which reads this setting.
 */
const WORD_SIMILARITY_THRESHOLD = '0.5';

const IS_STUDENT = sql`(p.primary_role = 'student' OR p.roles @> '[{"role": "student"}]'::jsonb)`;

/** A list of constants (never user input) as SQL string literals. */
function literals(values: readonly string[]): string {
  return values.map((value) => `'${value.replaceAll("'", "''")}'`).join(', ');
}

/** `STAFF_ROLES`: a staff role, primary or not, and no student role (a student who is also an aide is a student). */
const IS_STAFF = new SqlFragment(
  `(p.primary_role IN (${literals(STAFF_ROLES)})
    OR EXISTS (SELECT 1 FROM jsonb_array_elements(p.roles) AS held (membership)
                WHERE held.membership->>'role' IN (${literals(STAFF_ROLES)})))
   AND NOT ${IS_STUDENT.text}`,
  [],
);

const STAFF_ENROLLMENT = new SqlFragment(`IN (${literals(STAFF_ENROLLMENT_ROLES)})`, []);

/**
 * The connection a row of alias `t` came from, and its name: the connections table belongs to module sis-sync,
 * read here by SQL only (its id and name). A deleted connection keeps its name; a missing row gives null.
 */
function sourceColumns(t: string): SqlFragment {
  return new SqlFragment(
    `${t}.connection_id, (SELECT sc.name FROM sis_connections sc WHERE sc.id = ${t}.connection_id) AS connection_name`,
    [],
  );
}
/** Agents are a student's guardians only in one of these roles (a teacher listed among the agents is not one). */
const IS_GUARDIAN = sql`(p.primary_role IN ('parent', 'guardian', 'relative')
       OR p.roles @> '[{"role": "parent"}]'::jsonb OR p.roles @> '[{"role": "guardian"}]'::jsonb
       OR p.roles @> '[{"role": "relative"}]'::jsonb)`;

const CLASS_COLUMNS = sql`c.id, c.sourced_id, c.status, c.source_modified_at, c.title, c.class_code, c.class_type,
       c.location, c.grades, c.subjects, c.periods,
       s.id AS school_id, s.sourced_id AS school_sourced_id, s.name AS school_name,
       co.id AS course_id, co.sourced_id AS course_sourced_id, co.title AS course_title, co.course_code,
       ${sourceColumns('c')}`;

/**
 * The sourcedId of the school org `orgSourcedId` (SQL) of `connection` belongs to: itself, or for a department the
 * school resolved among its parents (`roster_orgs.school_sourced_id`, kept by the sync). Callers still require an
 * active org of type school.
 */
function schoolOf(connection: string, orgSourcedId: string): SqlFragment {
  return new SqlFragment(
    `(SELECT coalesce(so.school_sourced_id, so.sourced_id) FROM roster_orgs so
       WHERE so.connection_id = ${connection} AND so.sourced_id = ${orgSourcedId})`,
    [],
  );
}

/** A class's school counts only as an active org of type school, exactly as in `scope_schools`. */
const CLASS_JOINS = sql`
  LEFT JOIN roster_orgs s ON s.connection_id = c.connection_id
        AND s.sourced_id = ${schoolOf('c.connection_id', 'c.school_sourced_id')}
        AND s.type = 'school' AND s.status = 'active'
  LEFT JOIN roster_courses co ON co.connection_id = c.connection_id AND co.sourced_id = c.course_sourced_id
        AND co.status = 'active'`;

const PERSON_NAME_COLUMNS = sql`p.id, p.sourced_id, p.status, p.source_modified_at, p.given_name, p.family_name,
       p.middle_name, p.preferred_first_name, p.preferred_last_name`;

/** The active schools in person `p`'s orgs. */
const PERSON_SCHOOLS = sql`
       (SELECT coalesce(jsonb_agg(jsonb_build_object('id', o.id, 'sourcedId', o.sourced_id, 'name', o.name)
                                  ORDER BY o.name, o.id), '[]'::jsonb)
          FROM roster_orgs o
         WHERE o.connection_id = p.connection_id AND o.type = 'school' AND o.status = 'active'
           AND o.sourced_id IN (SELECT ${schoolOf('p.connection_id', 'member.sourced_id')}
                                  FROM jsonb_array_elements_text(p.org_sourced_ids) AS member(sourced_id)))
       AS schools`;

const STUDENT_COLUMNS = sql`${PERSON_NAME_COLUMNS}, p.pronouns, p.identifier, p.username, p.email, p.grades,
       ${PERSON_SCHOOLS}, ${sourceColumns('p')}`;

const STAFF_COLUMNS = sql`${PERSON_NAME_COLUMNS}, p.identifier, p.username, p.email, p.primary_role, p.roles,
       ${PERSON_SCHOOLS}, ${sourceColumns('p')}`;

/**
 * `enrollmentGrantsAccess` for enrollment `e` of class `c` (aliases; `c` needs `connection_id` and
 * `term_sourced_ids`): active, begun by today, and not ended before the grace period. Without an end date of
 * its own, the latest end date of the class's terms bounds it (looked up only then).
 */
function currentEnrollment(e: string, c: string, window: AccessWindow): SqlFragment {
  return new SqlFragment(
    `${e}.status = 'active'
           AND (${e}.begin_date IS NULL OR ${e}.begin_date <= ?::date)
           AND coalesce(${e}.end_date,
                        (SELECT max(term.end_date)
                           FROM jsonb_array_elements_text(${c}.term_sourced_ids) AS class_term (sourced_id)
                           JOIN roster_academic_sessions term ON term.connection_id = ${c}.connection_id
                                                             AND term.sourced_id = class_term.sourced_id),
                        ?::date) >= ?::date`,
    [window.today, window.today, window.endedNoEarlierThan],
  );
}

/** Lowercased emails of the class's current teachers: the fact a teacher's scope matches on. */
function teacherEmails(window: AccessWindow): SqlFragment {
  return sql`(SELECT coalesce(jsonb_agg(DISTINCT lower(tp.email)), '[]'::jsonb)
          FROM roster_enrollments te
          JOIN roster_people tp ON tp.connection_id = te.connection_id AND tp.sourced_id = te.user_sourced_id
         WHERE te.connection_id = c.connection_id AND te.class_sourced_id = c.sourced_id AND te.role = 'teacher'
           AND ${currentEnrollment('te', 'c', window)} AND tp.status = 'active' AND tp.email IS NOT NULL)
       AS teacher_emails`;
}

/**
 * Set-based twin of `roster-access-scope.ts`: `<prefix>_schools` are the covered schools, `<prefix>_classes` the
 * active classes of those schools plus `taughtClasses`, `<prefix>_students` the active people listed in a covered
 * school's org or currently enrolled as students in a covered class.
 */
function coverageCtes(
  prefix: 'scope' | 'filter',
  window: AccessWindow,
  schools: SqlFragment,
  taughtClasses?: SqlFragment,
): SqlFragment {
  const schoolsCte = new SqlFragment(`${prefix}_schools`, []);
  // The covered schools and their departments: the orgs a class or person of a covered school names.
  const orgsCte = new SqlFragment(`${prefix}_orgs`, []);
  const classesCte = new SqlFragment(`${prefix}_classes`, []);
  const taughtClassesCte = new SqlFragment(`${prefix}_taught_classes`, []);
  const taught = taughtClasses
    ? sql`OR EXISTS (SELECT 1 FROM ${taughtClassesCte} x
                      WHERE x.connection_id = c.connection_id AND x.sourced_id = c.sourced_id)`
    : SqlFragment.empty;
  return joinSql(
    [
      sql`${schoolsCte} AS (${schools})`,
      sql`${orgsCte} AS (
        SELECT o.connection_id, o.sourced_id FROM ${schoolsCte} cs
          JOIN roster_orgs o ON o.connection_id = cs.connection_id
                            AND (o.sourced_id = cs.sourced_id OR o.school_sourced_id = cs.sourced_id))`,
      taughtClasses ? sql`${taughtClassesCte} AS (${taughtClasses})` : SqlFragment.empty,
      sql`${classesCte} AS (
        SELECT c.connection_id, c.sourced_id,
               ${schoolOf('c.connection_id', 'c.school_sourced_id')} AS school_sourced_id,
               c.term_sourced_ids
          FROM roster_classes c
         WHERE c.status = 'active'
           AND (EXISTS (SELECT 1 FROM ${orgsCte} cs
                         WHERE cs.connection_id = c.connection_id AND cs.sourced_id = c.school_sourced_id)
                ${taught}))`,
      membersCte(`${prefix}_students`, orgsCte, classesCte, sql`= 'student'`, window),
    ],
    ',\n',
  );
}

/** The schools a restricted scope covers (`scopeCoversSchool`). */
function scopeSchools(scope: RosterAccessScope & { kind: 'restricted' }): SqlFragment {
  // Scope entries are schools' local ids; anything else (a legacy sourcedId) matches no school.
  const ids = scope.schoolKeys.filter(isRosterId);
  return sql`SELECT o.id, o.connection_id, o.sourced_id FROM roster_orgs o
     WHERE o.type = 'school' AND o.status = 'active'
       AND o.id = ANY(ARRAY[${ids}]::uuid[])`;
}

/** The one school a list is filtered by, as `scopeSchools` gives the schools of a scope. */
function filterSchool(schoolId: string): SqlFragment {
  return sql`SELECT o.id, o.connection_id, o.sourced_id FROM roster_orgs o
         WHERE o.id = ${schoolId}::uuid AND o.type = 'school' AND o.status = 'active'`;
}

/**
 * `<prefix>_staff`, after `coverageCtes(prefix, …)` without taught classes: active people listed in a covered
 * school or one of its departments, or currently enrolled, other than as students, in one of its classes (a
 * department's included); plus `self`. The same orgs and classes as `<prefix>_students`.
 */
function staffCte(prefix: 'scope' | 'filter', window: AccessWindow, self?: SqlFragment): SqlFragment {
  const orgsCte = new SqlFragment(`${prefix}_orgs`, []);
  const classesCte = new SqlFragment(`${prefix}_classes`, []);
  return membersCte(`${prefix}_staff`, orgsCte, classesCte, STAFF_ENROLLMENT, window, self);
}

/**
 * CTE `name`: the active people listed in an org of `orgsCte` or currently enrolled, with an enrollment role
 * matching `enrollmentRole` (`= 'student'`, `IN (…)`), in a class of `classesCte`; plus the people `self` selects.
 */
function membersCte(
  name: string,
  orgsCte: SqlFragment,
  classesCte: SqlFragment,
  enrollmentRole: SqlFragment,
  window: AccessWindow,
  self?: SqlFragment,
): SqlFragment {
  return sql`${new SqlFragment(name, [])} AS (
        SELECT p.id FROM ${orgsCte} cs
          JOIN roster_people p ON p.connection_id = cs.connection_id
                              AND p.org_sourced_ids @> jsonb_build_array(cs.sourced_id)
         WHERE p.status = 'active'
        UNION
        SELECT p.id FROM ${classesCte} cc
          JOIN roster_enrollments e ON e.connection_id = cc.connection_id AND e.class_sourced_id = cc.sourced_id
                                   AND e.role ${enrollmentRole} AND ${currentEnrollment('e', 'cc', window)}
          JOIN roster_people p ON p.connection_id = e.connection_id AND p.sourced_id = e.user_sourced_id
                              AND p.status = 'active'
        ${self ? sql`UNION ${self}` : SqlFragment.empty})`;
}

/**
 * The schools of the people CTE `people` (`id`, `connection_id`, `sourced_id`, `org_sourced_ids`) by the rules of
 * `membersCte`, one row per person and school (`person_id`, `school_id`, `school_sourced_id`): the schools of the
 * orgs they are listed in, and of the active classes they are currently enrolled in with a role matching
 * `enrollmentRole`; a department counts as the school it belongs to. What a single-record access check compares.
 */
function memberSchools(people: string, enrollmentRole: SqlFragment, window: AccessWindow): SqlFragment {
  const peopleCte = new SqlFragment(people, []);
  return sql`SELECT pp.id AS person_id, o.id AS school_id, o.sourced_id AS school_sourced_id
         FROM ${peopleCte} pp
         CROSS JOIN LATERAL jsonb_array_elements_text(pp.org_sourced_ids) AS member (sourced_id)
         JOIN roster_orgs o ON o.connection_id = pp.connection_id
                           AND o.sourced_id = ${schoolOf('pp.connection_id', 'member.sourced_id')}
                           AND o.type = 'school' AND o.status = 'active'
       UNION
       SELECT pp.id, s.id, s.sourced_id
         FROM ${peopleCte} pp
         JOIN roster_enrollments e ON e.connection_id = pp.connection_id AND e.user_sourced_id = pp.sourced_id
                                  AND e.role ${enrollmentRole}
         JOIN roster_classes c ON c.connection_id = e.connection_id AND c.sourced_id = e.class_sourced_id
                              AND c.status = 'active'
         JOIN roster_orgs s ON s.connection_id = c.connection_id
                           AND s.sourced_id = ${schoolOf('c.connection_id', 'c.school_sourced_id')}
                           AND s.type = 'school' AND s.status = 'active'
        WHERE ${currentEnrollment('e', 'c', window)}`;
}

/** `scopeCoversStaff` as CTEs ending in `scope_staff`; nothing for the district scope. */
function staffScopeCtes(scope: RosterAccessScope, window: AccessWindow): SqlFragment {
  if (scope.kind === 'district') return SqlFragment.empty;
  const self =
    scope.teacherEmail === null
      ? undefined
      : sql`SELECT p.id FROM roster_people p WHERE lower(p.email) = ${scope.teacherEmail} AND p.status = 'active'`;
  return joinSql([coverageCtes('scope', window, scopeSchools(scope)), staffCte('scope', window, self)], ',\n');
}

/** The same membership rules as the staff scope, for the one school a staff list is filtered by. */
function staffSchoolFilterCtes(schoolId: string | undefined, window: AccessWindow): SqlFragment {
  if (schoolId === undefined) return SqlFragment.empty;
  return joinSql([coverageCtes('filter', window, filterSchool(schoolId)), staffCte('filter', window)], ',\n');
}

/** `scopeCoversSchool` and `scopeCoversClass` as CTEs; nothing for the district scope. */
function scopeCtes(scope: RosterAccessScope, window: AccessWindow): SqlFragment {
  if (scope.kind === 'district') return SqlFragment.empty;
  const schools = scopeSchools(scope);
  const taught =
    scope.teacherEmail === null
      ? undefined
      : sql`SELECT te.connection_id, te.class_sourced_id AS sourced_id
      FROM roster_people tp
      JOIN roster_enrollments te ON te.connection_id = tp.connection_id AND te.user_sourced_id = tp.sourced_id
      JOIN roster_classes tc ON tc.connection_id = te.connection_id AND tc.sourced_id = te.class_sourced_id
     WHERE lower(tp.email) = ${scope.teacherEmail} AND tp.status = 'active'
       AND te.role = 'teacher' AND ${currentEnrollment('te', 'tc', window)}`;
  return coverageCtes('scope', window, schools, taught);
}

/** The same membership rules as the scope, for the one school a list is filtered by. */
function schoolFilterCtes(schoolId: string | undefined, window: AccessWindow): SqlFragment {
  if (schoolId === undefined) return SqlFragment.empty;
  return coverageCtes('filter', window, filterSchool(schoolId));
}

function withClause(...ctes: SqlFragment[]): SqlFragment {
  const present = joinSql(ctes, ',\n');
  return present.isEmpty ? SqlFragment.empty : sql`WITH ${present}\n`;
}

function where(conditions: SqlFragment[]): SqlFragment {
  return sql`WHERE ${joinSql(conditions, '\n   AND ')}`;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/** A filter by id that is not a local id matches nothing (the DTOs refuse it first; this keeps SQL casts safe). */
function filterIdsWellFormed(filter: { schoolId?: string; connectionId?: string }): boolean {
  return [filter.schoolId, filter.connectionId].every((id) => id === undefined || isRosterId(id));
}

function connectionCondition(t: 'p' | 'c', connectionId: string | undefined): SqlFragment {
  return connectionId === undefined
    ? SqlFragment.empty
    : sql`${new SqlFragment(`${t}.connection_id`, [])} = ${connectionId}::uuid`;
}

/** Which people (alias `p`) a student or staff list reads: its CTEs, the columns it selects, its conditions. */
interface PersonSelection {
  ctes: SqlFragment;
  columns: SqlFragment;
  conditions: SqlFragment[];
}

/**
 * Active people that `who` picks, kept by `filter` and visible to `scope`: `filter_<members>` and `scope_<members>`
 * are the CTEs of the filter school and of the scope (`students` or `staff`). `extra` sits after the connection.
 */
function personConditions(
  who: SqlFragment,
  members: 'students' | 'staff',
  scope: RosterAccessScope,
  filter: { schoolId?: string; connectionId?: string },
  ...extra: SqlFragment[]
): SqlFragment[] {
  return [
    sql`p.status = 'active' AND ${who}`,
    connectionCondition('p', filter.connectionId),
    ...extra,
    filter.schoolId === undefined
      ? SqlFragment.empty
      : sql`p.id IN (SELECT id FROM ${new SqlFragment(`filter_${members}`, [])})`,
    scope.kind === 'district'
      ? SqlFragment.empty
      : sql`p.id IN (SELECT id FROM ${new SqlFragment(`scope_${members}`, [])})`,
  ];
}

@Injectable()
export class PostgresRosterReadModel extends RosterReadModel {
  constructor(
    private readonly em: EntityManager,
    private readonly clock: Clock,
    private readonly config: RosterConfig,
  ) {
    super();
  }

  /** Which enrollments count as current for this call. */
  private window(): AccessWindow {
    return accessWindow(this.clock.now(), this.config.enrollmentGraceDays);
  }

  async listSchools(scope: RosterAccessScope, after: SchoolPosition | null, limit: number): Promise<SchoolView[]> {
    const rows = await this.query<SchoolRow>(sql`
      ${withClause(scopeCtes(scope, this.window()))}
      SELECT o.id, o.sourced_id, o.status, o.source_modified_at, o.name, o.identifier, ${sourceColumns('o')}
        FROM roster_orgs o
      ${where([
        sql`o.type = 'school' AND o.status = 'active'`,
        scope.kind === 'district'
          ? SqlFragment.empty
          : sql`(EXISTS (SELECT 1 FROM scope_schools cs WHERE cs.id = o.id)
                 OR EXISTS (SELECT 1 FROM scope_classes cc
                             WHERE cc.connection_id = o.connection_id AND cc.school_sourced_id = o.sourced_id))`,
        after ? sql`(o.name, o.id) > (${after.name}, ${after.id}::uuid)` : SqlFragment.empty,
      ])}
       ORDER BY o.name, o.id
       LIMIT ${limit}`);
    return rows.map((row) => ({
      ...sourcedView(row),
      name: row.name,
      identifier: row.identifier,
      source: recordSource(row),
    }));
  }

  async listClasses(
    scope: RosterAccessScope,
    filter: ClassFilter,
    after: ClassPosition | null,
    limit: number,
  ): Promise<ClassView[]> {
    if (!filterIdsWellFormed(filter)) return [];
    const rows = await this.query<ClassRow>(sql`
      ${withClause(scopeCtes(scope, this.window()))}
      SELECT ${CLASS_COLUMNS}
        FROM roster_classes c ${CLASS_JOINS}
      ${where([
        sql`c.status = 'active'`,
        filter.schoolId === undefined ? SqlFragment.empty : sql`s.id = ${filter.schoolId}::uuid`,
        connectionCondition('c', filter.connectionId),
        scope.kind === 'district'
          ? SqlFragment.empty
          : sql`EXISTS (SELECT 1 FROM scope_classes cc
                         WHERE cc.connection_id = c.connection_id AND cc.sourced_id = c.sourced_id)`,
        after ? sql`(c.title, c.id) > (${after.title}, ${after.id}::uuid)` : SqlFragment.empty,
      ])}
       ORDER BY c.title, c.id
       LIMIT ${limit}`);
    return rows.map(classView);
  }

  async findClass(classId: string): Promise<ClassWithAccess | null> {
    if (!isRosterId(classId)) return null;
    const [row] = await this.query<ClassRow & { teacher_emails: string[] }>(sql`
      SELECT ${CLASS_COLUMNS}, ${teacherEmails(this.window())}
        FROM roster_classes c ${CLASS_JOINS}
       WHERE c.id = ${classId}::uuid AND c.status = 'active'`);
    if (!row) return null;
    return { class: classView(row), access: classAccess(row) };
  }

  async listClassMembers(classId: string): Promise<ClassMemberView[]> {
    if (!isRosterId(classId)) return [];
    const rows = await this.query<MemberRow>(sql`
      SELECT ${PERSON_NAME_COLUMNS}, p.identifier, p.email,
             e.id AS enrollment_id, e.sourced_id AS enrollment_sourced_id, e.status AS enrollment_status,
             e.source_modified_at AS enrollment_modified_at, e.role, e.is_primary,
             e.begin_date::text AS begin_date, e.end_date::text AS end_date
        FROM roster_classes c
        JOIN roster_enrollments e ON e.connection_id = c.connection_id AND e.class_sourced_id = c.sourced_id
                                 AND ${currentEnrollment('e', 'c', this.window())}
        JOIN roster_people p ON p.connection_id = e.connection_id AND p.sourced_id = e.user_sourced_id
                            AND p.status = 'active'
       WHERE c.id = ${classId}::uuid AND c.status = 'active'
       ORDER BY CASE e.role WHEN 'teacher' THEN 0 WHEN 'student' THEN 2 ELSE 1 END, e.is_primary DESC,
                p.family_name, p.given_name, p.id, e.id`);
    return rows.map((row) => ({
      ...enrollmentFields(row),
      person: { ...personNameView(row), identifier: row.identifier, email: row.email },
    }));
  }

  async listStudents(
    scope: RosterAccessScope,
    filter: StudentFilter,
    after: StudentPosition | null,
    limit: number,
  ): Promise<StudentView[]> {
    if (!filterIdsWellFormed(filter)) return [];
    const rows = await this.listPeople<StudentRow>(this.students(scope, filter), after, limit);
    return rows.map(studentView);
  }

  /** Ranked as `rankedSearch` says. */
  async searchStudents(
    scope: RosterAccessScope,
    search: string,
    filter: StudentFilter,
    after: RankedStudentPosition | null,
    limit: number,
  ): Promise<RankedStudent[]> {
    if (!filterIdsWellFormed(filter)) return [];
    const rows = await this.rankedSearch<StudentRow>(this.students(scope, filter), search, after, limit);
    return rows.map((row) => ({ student: studentView(row), score: String(row.score) }));
  }

  async listStaff(
    scope: RosterAccessScope,
    filter: StaffFilter,
    after: StudentPosition | null,
    limit: number,
  ): Promise<StaffView[]> {
    if (!filterIdsWellFormed(filter)) return [];
    const rows = await this.listPeople<StaffRow>(this.staff(scope, filter), after, limit);
    return rows.map(staffView);
  }

  async searchStaff(
    scope: RosterAccessScope,
    search: string,
    filter: StaffFilter,
    after: RankedStudentPosition | null,
    limit: number,
  ): Promise<RankedStaff[]> {
    if (!filterIdsWellFormed(filter)) return [];
    const rows = await this.rankedSearch<StaffRow>(this.staff(scope, filter), search, after, limit);
    return rows.map((row) => ({ staff: staffView(row), score: String(row.score) }));
  }

  async findStaff(staffId: string): Promise<StaffWithAccess | null> {
    if (!isRosterId(staffId)) return null;
    const [row] = await this.query<StaffRow>(sql`
      SELECT ${STAFF_COLUMNS}
        FROM roster_people p
       WHERE p.id = ${staffId}::uuid AND p.status = 'active' AND ${IS_STAFF}`);
    if (!row) return null;
    // The same membership rules as `scope_staff` (and as `findStudentSchools` for students).
    const schools = await this.query<{ school_id: string; school_sourced_id: string }>(sql`
      WITH staff AS (SELECT p.id, p.connection_id, p.sourced_id, p.org_sourced_ids FROM roster_people p
                      WHERE p.id = ${staffId}::uuid)
      ${memberSchools('staff', STAFF_ENROLLMENT, this.window())}`);
    const staff = staffView(row);
    return {
      staff,
      access: {
        schools: schools.map((school) => ({ id: school.school_id, sourcedId: school.school_sourced_id })),
        email: staff.email,
      },
    };
  }

  /**
   * Candidates: trigram word similarity (typos, transposed or missing words) or a plain substring. Ranked by
   * word similarity, half the whole-text similarity, and a bonus when the query starts a word (1) or merely
   * occurs (0.5), rounded so the score survives the cursor exactly.
   */
  private async rankedSearch<Row>(
    people: PersonSelection,
    search: string,
    after: RankedStudentPosition | null,
    limit: number,
  ): Promise<(Row & { score: string })[]> {
    const escaped = escapeLike(search);
    const anywhere = `%${escaped}%`;
    const startsText = `${escaped}%`;
    const startsWord = `% ${escaped}%`;
    const statement = sql`
      ${people.ctes}
      SELECT * FROM (
        SELECT ${people.columns},
               round((word_similarity(${search}, p.search_text) + similarity(${search}, p.search_text) / 2
                      + CASE WHEN p.search_text LIKE ${startsText} OR p.search_text LIKE ${startsWord} THEN 1
                             WHEN p.search_text LIKE ${anywhere} THEN 0.5
                             ELSE 0 END)::numeric, 6) AS score
          FROM roster_people p
        ${where([...people.conditions, sql`(${search} <% p.search_text OR p.search_text LIKE ${anywhere})`])}
      ) ranked
      ${
        after
          ? sql`WHERE ranked.score < ${after.score}::numeric
                   OR (ranked.score = ${after.score}::numeric
                       AND (ranked.family_name, ranked.given_name, ranked.id)
                           > (${after.familyName}, ${after.givenName}, ${after.id}::uuid))`
          : SqlFragment.empty
      }
       ORDER BY ranked.score DESC, ranked.family_name, ranked.given_name, ranked.id
       LIMIT ${limit}`;
    return this.em.transactional(async (em) => {
      const connection = em.getConnection();
      await connection.execute(
        `SELECT set_config('pg_trgm.word_similarity_threshold', ?, true)`,
        [WORD_SIMILARITY_THRESHOLD],
        'all',
        em.getTransactionContext(),
      );
      return connection.execute<(Row & { score: string })[]>(
        statement.text,
        [...statement.params],
        'all',
        em.getTransactionContext(),
      );
    });
  }

  async findStudent(studentId: string): Promise<StudentWithAccess | null> {
    if (!isRosterId(studentId)) return null;
    const [row] = await this.query<StudentRow>(sql`
      SELECT ${STUDENT_COLUMNS}
        FROM roster_people p
       WHERE p.id = ${studentId}::uuid AND p.status = 'active' AND ${IS_STUDENT}`);
    if (!row) return null;
    const window = this.window();
    const classes = await this.query<ClassAccessRow>(sql`
      SELECT DISTINCT c.id, s.id AS school_id, s.sourced_id AS school_sourced_id, ${teacherEmails(window)}
        FROM roster_people p
        JOIN roster_enrollments e ON e.connection_id = p.connection_id AND e.user_sourced_id = p.sourced_id
                                 AND e.role = 'student'
        JOIN roster_classes c ON c.connection_id = e.connection_id AND c.sourced_id = e.class_sourced_id
                             AND c.status = 'active'
        LEFT JOIN roster_orgs s ON s.connection_id = c.connection_id
                               AND s.sourced_id = ${schoolOf('c.connection_id', 'c.school_sourced_id')}
                               AND s.type = 'school' AND s.status = 'active'
       WHERE p.id = ${studentId}::uuid AND ${currentEnrollment('e', 'c', window)}`);
    const student = studentView(row);
    return {
      student,
      access: {
        schools: student.schools.map(({ id, sourcedId }) => ({ id, sourcedId })),
        classes: classes.map(classAccess),
      },
    };
  }

  async listStudentEnrollments(studentId: string): Promise<StudentEnrollmentView[]> {
    if (!isRosterId(studentId)) return [];
    const rows = await this.query<StudentEnrollmentRow>(sql`
      SELECT e.id AS enrollment_id, e.sourced_id AS enrollment_sourced_id, e.status AS enrollment_status,
             e.source_modified_at AS enrollment_modified_at, e.role, e.is_primary,
             e.begin_date::text AS begin_date, e.end_date::text AS end_date,
             c.id AS class_id, c.sourced_id AS class_sourced_id, c.title AS class_title, c.class_code,
             s.id AS school_id, s.sourced_id AS school_sourced_id, s.name AS school_name
        FROM roster_people p
        JOIN roster_enrollments e ON e.connection_id = p.connection_id AND e.user_sourced_id = p.sourced_id
                                 AND e.status = 'active'
        JOIN roster_classes c ON c.connection_id = e.connection_id AND c.sourced_id = e.class_sourced_id
                             AND c.status = 'active'
        LEFT JOIN roster_orgs s ON s.connection_id = c.connection_id
                               AND s.sourced_id = ${schoolOf('c.connection_id', 'c.school_sourced_id')}
                               AND s.type = 'school' AND s.status = 'active'
       WHERE p.id = ${studentId}::uuid
       ORDER BY c.title, c.id, e.id`);
    return rows.map((row) => ({
      ...enrollmentFields(row),
      class: {
        id: row.class_id,
        sourcedId: row.class_sourced_id,
        title: row.class_title,
        classCode: row.class_code,
        school: schoolSummary(row),
      },
    }));
  }

  async listGuardians(studentId: string): Promise<GuardianView[]> {
    if (!isRosterId(studentId)) return [];
    const rows = await this.query<GuardianRow>(sql`
      SELECT ${PERSON_NAME_COLUMNS}, p.primary_role, p.email, p.phone, p.sms
        FROM roster_people student
        JOIN roster_people p ON p.connection_id = student.connection_id AND p.id <> student.id
                            AND p.status = 'active'
                            AND (student.agent_sourced_ids @> jsonb_build_array(p.sourced_id)
                                 OR p.agent_sourced_ids @> jsonb_build_array(student.sourced_id))
                            AND ${IS_GUARDIAN}
       WHERE student.id = ${studentId}::uuid
       ORDER BY p.family_name, p.given_name, p.id`);
    return rows.map((row) => ({
      ...personNameView(row),
      role: row.primary_role,
      email: row.email,
      phone: row.phone,
      sms: row.sms,
    }));
  }

  async findDemographics(studentId: string): Promise<DemographicsView | null> {
    if (!isRosterId(studentId)) return null;
    const [row] = await this.query<DemographicsRow>(sql`
      SELECT d.id, d.sourced_id, d.status, d.source_modified_at, d.birth_date::text AS birth_date, d.sex, d.race,
             d.hispanic_or_latino, d.country_of_birth_code, d.state_of_birth, d.city_of_birth,
             d.public_school_residence_status
        FROM roster_people p
        JOIN roster_demographics d ON d.connection_id = p.connection_id AND d.sourced_id = p.sourced_id
                                  AND d.status = 'active'
       WHERE p.id = ${studentId}::uuid`);
    if (!row) return null;
    return {
      ...sourcedView(row),
      birthDate: row.birth_date,
      sex: row.sex,
      race: row.race,
      hispanicOrLatino: row.hispanic_or_latino,
      countryOfBirthCode: row.country_of_birth_code,
      stateOfBirth: row.state_of_birth,
      cityOfBirth: row.city_of_birth,
      publicSchoolResidenceStatus: row.public_school_residence_status,
    };
  }

  async findExistingStudentIds(ids: readonly string[]): Promise<string[]> {
    const candidates = [...new Set(ids.filter(isRosterId).map((id) => id.toLowerCase()))];
    if (candidates.length === 0) return [];
    const rows = await runSql<{ id: string }>(
      this.em,
      `SELECT p.id FROM roster_people p WHERE p.id = ANY($1::uuid[]) AND ${IS_STUDENT.text}`,
      [candidates],
    );
    return rows.map((row) => row.id);
  }

  async findSchoolsByKeys(ids: readonly string[], sourcedIds: readonly string[]): Promise<SchoolRecord[]> {
    const localIds = [...new Set(ids.filter(isRosterId).map((id) => id.toLowerCase()))];
    const keys = [...new Set(sourcedIds)];
    if (localIds.length === 0 && keys.length === 0) return [];
    const rows = await runSql<{ id: string; connection_id: string; sourced_id: string }>(
      this.em,
      `SELECT o.id, o.connection_id, o.sourced_id FROM roster_orgs o
        WHERE o.type = 'school' AND (o.id = ANY($1::uuid[]) OR o.sourced_id = ANY($2::text[]))
        ORDER BY o.connection_id, o.sourced_id`,
      [localIds, keys],
    );
    return rows.map((row) => ({ id: row.id, connectionId: row.connection_id, sourcedId: row.sourced_id }));
  }

  async findStudentIdsBySourcedIds(connectionId: string, named: readonly SourcedStudentReference[]): Promise<string[]> {
    if (!isRosterId(connectionId)) return [];
    const people = [...new Set(named.filter((ref) => ref.entity !== 'enrollments').map((ref) => ref.sourcedId))];
    const enrollments = [...new Set(named.filter((ref) => ref.entity === 'enrollments').map((ref) => ref.sourcedId))];
    if (people.length === 0 && enrollments.length === 0) return [];
    const rows = await runSql<{ id: string }>(
      this.em,
      `SELECT p.id FROM roster_people p
        WHERE p.connection_id = $1 AND p.sourced_id = ANY($2::text[]) AND ${IS_STUDENT.text}
       UNION
       SELECT p.id FROM roster_enrollments e
         JOIN roster_people p ON p.connection_id = e.connection_id AND p.sourced_id = e.user_sourced_id
        WHERE e.connection_id = $1 AND e.sourced_id = ANY($3::text[]) AND e.role = 'student' AND ${IS_STUDENT.text}
       ORDER BY id`,
      [connectionId, people, enrollments],
    );
    return rows.map((row) => row.id);
  }

  async findStudentSchools(ids: readonly string[]): Promise<Map<string, SchoolReference[]>> {
    const candidates = [...new Set(ids.filter(isRosterId).map((id) => id.toLowerCase()))];
    const schools = new Map<string, SchoolReference[]>();
    if (candidates.length === 0) return schools;
    // The same membership rules as `scope_students`: listed in a school's org, or currently enrolled in a class.
    const rows = await this.query<{ person_id: string; school_id: string; school_sourced_id: string }>(sql`
      WITH students AS (
         SELECT p.id, p.connection_id, p.sourced_id, p.org_sourced_ids FROM roster_people p
          WHERE p.id = ANY(ARRAY[${candidates}]::uuid[]) AND p.status = 'active' AND ${IS_STUDENT})
      ${memberSchools('students', sql`= 'student'`, this.window())}`);
    for (const row of rows) {
      const list = schools.get(row.person_id) ?? [];
      list.push({ id: row.school_id, sourcedId: row.school_sourced_id });
      schools.set(row.person_id, list);
    }
    return schools;
  }

  /** The students `scope` may see that `filter` keeps. */
  private students(scope: RosterAccessScope, filter: StudentFilter): PersonSelection {
    const window = this.window();
    return {
      ctes: withClause(scopeCtes(scope, window), schoolFilterCtes(filter.schoolId, window)),
      columns: STUDENT_COLUMNS,
      conditions: personConditions(IS_STUDENT, 'students', scope, filter),
    };
  }

  /** The staff `scope` may see that `filter` keeps. */
  private staff(scope: RosterAccessScope, filter: StaffFilter): PersonSelection {
    const window = this.window();
    return {
      ctes: withClause(staffScopeCtes(scope, window), staffSchoolFilterCtes(filter.schoolId, window)),
      columns: STAFF_COLUMNS,
      conditions: personConditions(
        IS_STAFF,
        'staff',
        scope,
        filter,
        filter.role === undefined
          ? SqlFragment.empty
          : sql`(p.primary_role = ${filter.role} OR p.roles @> jsonb_build_array(jsonb_build_object('role', ${filter.role}::text)))`,
      ),
    };
  }

  /** A page of `people` by name, after the keyset position `after`. */
  private listPeople<Row>(people: PersonSelection, after: StudentPosition | null, limit: number): Promise<Row[]> {
    return this.query<Row>(sql`
      ${people.ctes}
      SELECT ${people.columns}
        FROM roster_people p
      ${where([
        ...people.conditions,
        after
          ? sql`(p.family_name, p.given_name, p.id) > (${after.familyName}, ${after.givenName}, ${after.id}::uuid)`
          : SqlFragment.empty,
      ])}
       ORDER BY p.family_name, p.given_name, p.id
       LIMIT ${limit}`);
  }

  private query<Row>(fragment: SqlFragment): Promise<Row[]> {
    return this.em.getConnection().execute<Row[]>(fragment.text, [...fragment.params]);
  }
}

interface SourcedRow {
  id: string;
  sourced_id: string;
  status: 'active' | 'inactive';
  source_modified_at: Date | string | null;
}

interface SourceColumns {
  connection_id: string;
  connection_name: string | null;
}

interface SchoolRow extends SourcedRow, SourceColumns {
  name: string;
  identifier: string | null;
}

interface SchoolColumns {
  school_id: string | null;
  school_sourced_id: string | null;
  school_name: string | null;
}

interface ClassRow extends SourcedRow, SchoolColumns, SourceColumns {
  title: string;
  class_code: string | null;
  class_type: string | null;
  location: string | null;
  grades: string[];
  subjects: string[];
  periods: string[];
  course_id: string | null;
  course_sourced_id: string | null;
  course_title: string | null;
  course_code: string | null;
}

interface ClassAccessRow {
  school_id: string | null;
  school_sourced_id: string | null;
  teacher_emails: string[];
}

interface PersonNameRow extends SourcedRow {
  given_name: string;
  family_name: string;
  middle_name: string | null;
  preferred_first_name: string | null;
  preferred_last_name: string | null;
}

interface StudentRow extends PersonNameRow, SourceColumns {
  pronouns: string | null;
  identifier: string | null;
  username: string | null;
  email: string | null;
  grades: string[];
  schools: SchoolSummaryView[];
}

interface StaffRow extends PersonNameRow, SourceColumns {
  identifier: string | null;
  username: string | null;
  email: string | null;
  primary_role: PersonRole;
  roles: { role: PersonRole }[];
  schools: SchoolSummaryView[];
}

interface EnrollmentColumns {
  enrollment_id: string;
  enrollment_sourced_id: string;
  enrollment_status: 'active' | 'inactive';
  enrollment_modified_at: Date | string | null;
  role: EnrollmentRole;
  is_primary: boolean;
  begin_date: string | null;
  end_date: string | null;
}

interface MemberRow extends PersonNameRow, EnrollmentColumns {
  identifier: string | null;
  email: string | null;
}

interface StudentEnrollmentRow extends EnrollmentColumns, SchoolColumns {
  class_id: string;
  class_sourced_id: string;
  class_title: string;
  class_code: string | null;
}

interface GuardianRow extends PersonNameRow {
  primary_role: PersonRole;
  email: string | null;
  phone: string | null;
  sms: string | null;
}

interface DemographicsRow extends SourcedRow {
  birth_date: string | null;
  sex: string | null;
  race: Record<string, boolean | null>;
  hispanic_or_latino: boolean | null;
  country_of_birth_code: string | null;
  state_of_birth: string | null;
  city_of_birth: string | null;
  public_school_residence_status: string | null;
}

function isoInstant(value: Date | string | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

function sourcedView(row: SourcedRow): SourcedView {
  return {
    id: row.id,
    sourcedId: row.sourced_id,
    status: row.status,
    dateLastModified: isoInstant(row.source_modified_at),
  };
}

function recordSource(row: SourceColumns): RecordSourceView {
  return { connectionId: row.connection_id, connectionName: row.connection_name };
}

function schoolSummary(row: SchoolColumns): SchoolSummaryView | null {
  if (row.school_id === null || row.school_sourced_id === null || row.school_name === null) return null;
  return { id: row.school_id, sourcedId: row.school_sourced_id, name: row.school_name };
}

function classView(row: ClassRow): ClassView {
  return {
    ...sourcedView(row),
    title: row.title,
    classCode: row.class_code,
    classType: row.class_type,
    location: row.location,
    grades: row.grades,
    subjects: row.subjects,
    periods: row.periods,
    school: schoolSummary(row),
    course:
      row.course_id === null || row.course_sourced_id === null || row.course_title === null
        ? null
        : { id: row.course_id, sourcedId: row.course_sourced_id, title: row.course_title, courseCode: row.course_code },
    source: recordSource(row),
  };
}

function classAccess(row: ClassAccessRow): ClassAccessFacts {
  return {
    school:
      row.school_id === null || row.school_sourced_id === null
        ? null
        : { id: row.school_id, sourcedId: row.school_sourced_id },
    teacherEmails: row.teacher_emails,
  };
}

function personNameView(row: PersonNameRow) {
  return {
    ...sourcedView(row),
    givenName: row.given_name,
    familyName: row.family_name,
    middleName: row.middle_name,
    preferredFirstName: row.preferred_first_name,
    preferredLastName: row.preferred_last_name,
  };
}

function studentView(row: StudentRow): StudentView {
  return {
    ...personNameView(row),
    pronouns: row.pronouns,
    identifier: row.identifier,
    username: row.username,
    email: row.email,
    grades: row.grades,
    schools: row.schools,
    source: recordSource(row),
  };
}

function staffView(row: StaffRow): StaffView {
  return {
    ...personNameView(row),
    identifier: row.identifier,
    username: row.username,
    email: row.email,
    role: row.primary_role,
    roles: [...new Set([row.primary_role, ...row.roles.map((membership) => membership.role)])],
    schools: row.schools,
    source: recordSource(row),
  };
}

function enrollmentFields(row: EnrollmentColumns) {
  return {
    enrollment: {
      id: row.enrollment_id,
      sourcedId: row.enrollment_sourced_id,
      status: row.enrollment_status,
      dateLastModified: isoInstant(row.enrollment_modified_at),
    },
    role: row.role,
    primary: row.is_primary,
    beginDate: row.begin_date,
    endDate: row.end_date,
  };
}
