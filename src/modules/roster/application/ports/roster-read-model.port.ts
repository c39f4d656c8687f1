import type { StaffRole } from '../../domain/staff-roles.js';
import type { RosterAccessScope, SchoolReference } from '../roster-access-scope.js';
import type {
  ClassMemberView,
  ClassView,
  ClassWithAccess,
  DemographicsView,
  GuardianView,
  SchoolView,
  StaffView,
  StaffWithAccess,
  StudentEnrollmentView,
  StudentView,
  StudentWithAccess,
} from '../roster-views.js';

/** Keyset positions: each list returns the rows strictly after its position in its own order. */
export interface SchoolPosition {
  name: string;
  id: string;
}

export interface ClassPosition {
  title: string;
  id: string;
}

export interface StudentPosition {
  familyName: string;
  givenName: string;
  id: string;
}

/** Search results are ordered by score first; the score is a decimal string so it compares exactly. */
export interface RankedStudentPosition extends StudentPosition {
  score: string;
}

export interface RankedStudent {
  student: StudentView;
  score: string;
}

/** Staff lists use the students' orders (by name, or by score when searching) and positions. */
export interface RankedStaff {
  staff: StaffView;
  score: string;
}

/** A school of the mirror (an org of type school, in any status) and the SIS connection it came from. */
export interface SchoolRecord {
  id: string;
  connectionId: string;
  sourcedId: string;
}

/** A record of a sync that may name a student: a person (or their demographics) or an enrollment. */
export interface SourcedStudentReference {
  entity: 'people' | 'demographics' | 'enrollments';
  sourcedId: string;
}

export interface StudentFilter {
  /** Local id of a school: students listed in its org or enrolled in one of its classes. */
  schoolId?: string;
  /** Only the records of this SIS connection. */
  connectionId?: string;
}

export interface ClassFilter {
  /** Local id of a school: its classes. */
  schoolId?: string;
  /** Only the records of this SIS connection. */
  connectionId?: string;
}

export interface StaffFilter {
  /** Local id of a school: staff listed in its org or currently enrolled (not as students) in one of its classes. */
  schoolId?: string;
  /** Only the records of this SIS connection. */
  connectionId?: string;
  /** Only the people holding this role, primary or not. */
  role?: StaffRole;
}

/**
 * The roster mirror as the read side sees it: current (active) rows only, lists already narrowed to the
 * caller's scope, single records returned with the facts their access check needs.
 */
export abstract class RosterReadModel {
  abstract listSchools(scope: RosterAccessScope, after: SchoolPosition | null, limit: number): Promise<SchoolView[]>;

  abstract listClasses(
    scope: RosterAccessScope,
    filter: ClassFilter,
    after: ClassPosition | null,
    limit: number,
  ): Promise<ClassView[]>;

  abstract findClass(classId: string): Promise<ClassWithAccess | null>;

  abstract listClassMembers(classId: string): Promise<ClassMemberView[]>;

  abstract listStudents(
    scope: RosterAccessScope,
    filter: StudentFilter,
    after: StudentPosition | null,
    limit: number,
  ): Promise<StudentView[]>;

  /** `search` is already folded by `normaliseSearchQuery` and not empty. Best matches first. */
  abstract searchStudents(
    scope: RosterAccessScope,
    search: string,
    filter: StudentFilter,
    after: RankedStudentPosition | null,
    limit: number,
  ): Promise<RankedStudent[]>;

  abstract findStudent(studentId: string): Promise<StudentWithAccess | null>;

  /** Active people with a staff role and no student role (`STAFF_ROLES`), by name. */
  abstract listStaff(
    scope: RosterAccessScope,
    filter: StaffFilter,
    after: StudentPosition | null,
    limit: number,
  ): Promise<StaffView[]>;

  /** As `searchStudents`, over the staff `listStaff` would list. */
  abstract searchStaff(
    scope: RosterAccessScope,
    search: string,
    filter: StaffFilter,
    after: RankedStudentPosition | null,
    limit: number,
  ): Promise<RankedStaff[]>;

  /** An active staff member (as `listStaff` defines them) with the facts `scopeCoversStaff` needs. */
  abstract findStaff(staffId: string): Promise<StaffWithAccess | null>;

  abstract listStudentEnrollments(studentId: string): Promise<StudentEnrollmentView[]>;

  abstract listGuardians(studentId: string): Promise<GuardianView[]>;

  abstract findDemographics(studentId: string): Promise<DemographicsView | null>;

  /** Those of `ids` that are students of the mirror in any status (their record still exists). */
  abstract findExistingStudentIds(ids: readonly string[]): Promise<string[]>;

  /** Schools (any status) whose local id is in `ids` or whose sourcedId is in `sourcedIds`, of every connection. */
  abstract findSchoolsByKeys(ids: readonly string[], sourcedIds: readonly string[]): Promise<SchoolRecord[]>;

  /**
   * Local ids of the students (any status) of one connection that `named` refer to: people and demographics by
   * the person's sourcedId, enrollments by the student they enroll. References to anything else are ignored.
   */
  abstract findStudentIdsBySourcedIds(
    connectionId: string,
    named: readonly SourcedStudentReference[],
  ): Promise<string[]>;

  /** The active schools of the active students among `ids`: listed in their orgs or those of their classes. */
  abstract findStudentSchools(ids: readonly string[]): Promise<Map<string, SchoolReference[]>>;
}
