import type { AuthenticatedUser, Role } from '../../identity/index.js';

/**
 * Who may see which part of the roster mirror. Every rule lives here; the read model's SQL applies the same
 * rules to lists (its filters name the function they mirror), and single records are checked with these
 * functions against facts loaded for that record. Only current rows ever grant access: active records, and
 * enrollments within their dates (`enrollmentGrantsAccess` in the domain: begun, and not ended before the grace
 * period, the class's term end standing in for a missing end date); the read model returns only those as facts.
 *
 * - District roles see everything.
 * - `school_admin` sees the active schools whose local id is in `schoolIds`, their active classes, and the
 *   students of those schools: listed in the school's org, or currently enrolled in one of its classes. Scope
 *   entries are local ids because a sourcedId is unique only within one SIS connection: two connections may
 *   both have a school `org-sch-001`. Identity resolves what an administrator types into local ids when the scope
 *   is set; an entry that is not a local id (a legacy sourcedId) matches no school.
 * - `teacher` sees the active classes where a roster person with the teacher's email (case-insensitive) holds
 *   a current teacher enrollment, and the students currently enrolled in them.
 * - Staff (`STAFF_ROLES`): district roles see all; a `school_admin` the staff listed in a covered school's org or
 *   currently enrolled (teacher, aide, proctor, administrator) in one of its classes; a `teacher` only their own
 *   staff records (same email). A teacher needs no staff directory to teach: the class roster already shows who
 *   teaches each of their classes, so the least privilege is their own record (to check the link their scope
 *   rests on).
 * - A user holding several roles sees the union.
 */
export type RosterViewer = Pick<AuthenticatedUser, 'roles' | 'schoolIds' | 'email'>;

export const DISTRICT_WIDE_ROLES: readonly Role[] = ['district_admin', 'sis_operator', 'compliance_officer'];

export type RosterAccessScope =
  | { kind: 'district' }
  | {
      kind: 'restricted';
      /** Local ids of the schools the caller administers; empty when none. */
      schoolKeys: readonly string[];
      /** Lowercased email matched against roster teachers; null when the caller is not a teacher. */
      teacherEmail: string | null;
    };

export interface SchoolReference {
  id: string;
  sourcedId: string;
}

/** What decides whether a class is visible: its active school, and the emails of its active teachers. */
export interface ClassAccessFacts {
  school: SchoolReference | null;
  teacherEmails: readonly string[];
}

/** What decides whether a student is visible: their active schools and the active classes they attend. */
export interface StudentAccessFacts {
  schools: readonly SchoolReference[];
  classes: readonly ClassAccessFacts[];
}

/** What decides whether a staff member is visible: their active schools (orgs and classes), and their email. */
export interface StaffAccessFacts {
  schools: readonly SchoolReference[];
  email: string | null;
}

export function rosterAccessScope(viewer: RosterViewer): RosterAccessScope {
  if (viewer.roles.some((role) => DISTRICT_WIDE_ROLES.includes(role))) return { kind: 'district' };
  const schoolKeys = viewer.roles.includes('school_admin')
    ? [...new Set(viewer.schoolIds.map((key) => key.trim().toLowerCase()).filter((key) => key.length > 0))]
    : [];
  const email = viewer.email.trim().toLowerCase();
  const teacherEmail = viewer.roles.includes('teacher') && email.length > 0 ? email : null;
  return { kind: 'restricted', schoolKeys, teacherEmail };
}

/** Mirrored by the read model's `scope_schools`. */
export function scopeCoversSchool(scope: RosterAccessScope, school: SchoolReference): boolean {
  if (scope.kind === 'district') return true;
  return scope.schoolKeys.includes(school.id.toLowerCase());
}

/** Mirrored by the read model's `scope_classes`. */
export function scopeCoversClass(scope: RosterAccessScope, facts: ClassAccessFacts): boolean {
  if (scope.kind === 'district') return true;
  if (facts.school && scopeCoversSchool(scope, facts.school)) return true;
  const { teacherEmail } = scope;
  return teacherEmail !== null && facts.teacherEmails.some((email) => email.toLowerCase() === teacherEmail);
}

/** Mirrored by the read model's `scope_students`. */
export function scopeCoversStudent(scope: RosterAccessScope, facts: StudentAccessFacts): boolean {
  if (scope.kind === 'district') return true;
  return (
    facts.schools.some((school) => scopeCoversSchool(scope, school)) ||
    facts.classes.some((attended) => scopeCoversClass(scope, attended))
  );
}

/** Mirrored by the read model's `scope_staff`. */
export function scopeCoversStaff(scope: RosterAccessScope, facts: StaffAccessFacts): boolean {
  if (scope.kind === 'district') return true;
  if (facts.schools.some((school) => scopeCoversSchool(scope, school))) return true;
  return scope.teacherEmail !== null && facts.email !== null && facts.email.toLowerCase() === scope.teacherEmail;
}

/**
 * Birth date, sex, race and ethnicity are the most sensitive fields of a student record, and no one needs them to
 * teach a class or run a sync. Administrators of the district and of the student's school do (state and
 * civil-rights reporting, enrolment decisions). The compliance officer audits who saw what, not the data itself;
 * the SIS operator checks a sync against the SIS, not through this API.
 */
export const DEMOGRAPHICS_ROLES: readonly Role[] = ['district_admin', 'school_admin'];

/** A school admin sees them only for the students of their own schools, not for those they merely teach. */
export function mayViewDemographics(viewer: RosterViewer, facts: StudentAccessFacts): boolean {
  if (viewer.roles.includes('district_admin')) return true;
  if (!viewer.roles.includes('school_admin')) return false;
  return scopeCoversStudent(rosterAccessScope({ ...viewer, roles: ['school_admin'] }), facts);
}
