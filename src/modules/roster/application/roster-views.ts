import type { EnrollmentRole, ExtensionValue, PersonRole } from '@app/contracts';
import type { ClassAccessFacts, StaffAccessFacts, StudentAccessFacts } from './roster-access-scope.js';

/** What every mirrored record shows of its source: the local id is the only id used in URLs. */
export interface SourcedView {
  id: string;
  sourcedId: string;
  status: 'active' | 'inactive';
  /** The SIS's dateLastModified (ISO 8601), when it sent one. */
  dateLastModified: string | null;
}

/**
 * The SIS connection a record came from: the same district imported under two connections gives two records
 * with the same sourcedIds, told apart by this. The name is null when the connection's row is gone.
 */
export interface RecordSourceView {
  connectionId: string;
  connectionName: string | null;
}

export interface SchoolView extends SourcedView {
  name: string;
  identifier: string | null;
  source: RecordSourceView;
}

export interface SchoolSummaryView {
  id: string;
  sourcedId: string;
  name: string;
}

export interface CourseSummaryView {
  id: string;
  sourcedId: string;
  title: string;
  courseCode: string | null;
}

export interface ClassView extends SourcedView {
  title: string;
  classCode: string | null;
  classType: string | null;
  location: string | null;
  grades: string[];
  subjects: string[];
  periods: string[];
  school: SchoolSummaryView | null;
  course: CourseSummaryView | null;
  source: RecordSourceView;
}

export interface PersonNameView extends SourcedView {
  givenName: string;
  familyName: string;
  middleName: string | null;
  preferredFirstName: string | null;
  preferredLastName: string | null;
}

export interface StudentView extends PersonNameView {
  pronouns: string | null;
  identifier: string | null;
  username: string | null;
  email: string | null;
  grades: string[];
  schools: SchoolSummaryView[];
  source: RecordSourceView;
}

/** An active person holding a staff role (see `STAFF_ROLES`) and no student role. */
export interface StaffView extends PersonNameView {
  identifier: string | null;
  username: string | null;
  email: string | null;
  /** The person's primary role, which may be a non-staff role when a staff role is secondary. */
  role: PersonRole;
  /** Every distinct role the person holds, primary first. */
  roles: PersonRole[];
  /** Active schools in the person's orgs. */
  schools: SchoolSummaryView[];
  source: RecordSourceView;
}

export interface ClassMemberView {
  enrollment: SourcedView;
  /** An unmapped OneRoster 1.2 extension value is shown as given: it is no core role. */
  role: EnrollmentRole | ExtensionValue;
  primary: boolean;
  beginDate: string | null;
  endDate: string | null;
  person: PersonNameView & { identifier: string | null; email: string | null };
}

export interface StudentEnrollmentView {
  enrollment: SourcedView;
  /** An unmapped OneRoster 1.2 extension value is shown as given: it is no core role. */
  role: EnrollmentRole | ExtensionValue;
  primary: boolean;
  beginDate: string | null;
  endDate: string | null;
  class: { id: string; sourcedId: string; title: string; classCode: string | null; school: SchoolSummaryView | null };
}

export interface GuardianView extends PersonNameView {
  /** The linked person's primary role, e.g. guardian, parent or relative (or an unmapped extension value). */
  role: PersonRole | ExtensionValue;
  email: string | null;
  phone: string | null;
  sms: string | null;
}

export interface DemographicsView extends SourcedView {
  birthDate: string | null;
  sex: string | null;
  race: Record<string, boolean | null>;
  hispanicOrLatino: boolean | null;
  countryOfBirthCode: string | null;
  stateOfBirth: string | null;
  cityOfBirth: string | null;
  publicSchoolResidenceStatus: string | null;
}

export interface ClassRosterView {
  class: ClassView;
  members: ClassMemberView[];
}

export interface StudentDetailView {
  student: StudentView;
  enrollments: StudentEnrollmentView[];
  guardians: GuardianView[];
  /** Absent when the caller may not see demographics; null when the mirror holds none. */
  demographics?: DemographicsView | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ClassWithAccess {
  class: ClassView;
  access: ClassAccessFacts;
}

export interface StaffWithAccess {
  staff: StaffView;
  access: StaffAccessFacts;
}

export interface StudentWithAccess {
  student: StudentView;
  access: StudentAccessFacts;
}
