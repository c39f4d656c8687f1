import { RosterReadModel, type SchoolRecord, type SourcedStudentReference } from '../ports/roster-read-model.port.js';
import type { SchoolReference } from '../roster-access-scope.js';
import type {
  ClassMemberView,
  ClassWithAccess,
  DemographicsView,
  GuardianView,
  StaffWithAccess,
  StudentEnrollmentView,
  StudentWithAccess,
} from '../roster-views.js';

/** Single-record lookups from maps; the lists are exercised against PostgreSQL in the e2e suite. */
export class InMemoryRosterReadModel extends RosterReadModel {
  readonly classes = new Map<string, ClassWithAccess & { members: ClassMemberView[] }>();
  readonly students = new Map<
    string,
    StudentWithAccess & {
      enrollments: StudentEnrollmentView[];
      guardians: GuardianView[];
      demographics: DemographicsView | null;
    }
  >();
  readonly staff = new Map<string, StaffWithAccess>();
  readonly demographicsReads: string[] = [];
  readonly schools: SchoolRecord[] = [];

  listSchools(): Promise<never[]> {
    return Promise.resolve([]);
  }

  listClasses(): Promise<never[]> {
    return Promise.resolve([]);
  }

  listStudents(): Promise<never[]> {
    return Promise.resolve([]);
  }

  searchStudents(): Promise<never[]> {
    return Promise.resolve([]);
  }

  listStaff(): Promise<never[]> {
    return Promise.resolve([]);
  }

  searchStaff(): Promise<never[]> {
    return Promise.resolve([]);
  }

  findStaff(staffId: string): Promise<StaffWithAccess | null> {
    return Promise.resolve(this.staff.get(staffId) ?? null);
  }

  findClass(classId: string): Promise<ClassWithAccess | null> {
    const found = this.classes.get(classId);
    return Promise.resolve(found ? { class: found.class, access: found.access } : null);
  }

  listClassMembers(classId: string): Promise<ClassMemberView[]> {
    return Promise.resolve(this.classes.get(classId)?.members ?? []);
  }

  findStudent(studentId: string): Promise<StudentWithAccess | null> {
    const found = this.students.get(studentId);
    return Promise.resolve(found ? { student: found.student, access: found.access } : null);
  }

  listStudentEnrollments(studentId: string): Promise<StudentEnrollmentView[]> {
    return Promise.resolve(this.students.get(studentId)?.enrollments ?? []);
  }

  listGuardians(studentId: string): Promise<GuardianView[]> {
    return Promise.resolve(this.students.get(studentId)?.guardians ?? []);
  }

  findDemographics(studentId: string): Promise<DemographicsView | null> {
    this.demographicsReads.push(studentId);
    return Promise.resolve(this.students.get(studentId)?.demographics ?? null);
  }

  findExistingStudentIds(ids: readonly string[]): Promise<string[]> {
    return Promise.resolve(ids.filter((id) => this.students.has(id)));
  }

  findStudentSchools(ids: readonly string[]): Promise<Map<string, SchoolReference[]>> {
    const schools = new Map<string, SchoolReference[]>();
    for (const id of ids) {
      const found = this.students.get(id);
      if (found) schools.set(id, [...found.access.schools]);
    }
    return Promise.resolve(schools);
  }

  findSchoolsByKeys(ids: readonly string[], sourcedIds: readonly string[]): Promise<SchoolRecord[]> {
    return Promise.resolve(
      this.schools.filter((school) => ids.includes(school.id) || sourcedIds.includes(school.sourcedId)),
    );
  }

  findStudentIdsBySourcedIds(_connectionId: string, _named: readonly SourcedStudentReference[]): Promise<string[]> {
    return Promise.resolve([]);
  }
}
