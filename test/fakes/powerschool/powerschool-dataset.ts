/**
 * A PowerSchool district as the fake server holds it: one object per table row, ids as PowerSchool has them.
 * `dcid` is what /ws/v1 calls `id`; `tableId` is the table-level `ID` (used by CC.StudentID, Sections.ID …), a
 * different number; `localId`/`schoolNumber` are the human numbers. None of the three is derivable from another.
 * Dates are calendar dates; exit dates are exclusive (the day after the last day attended), as PowerSchool stores them.
 */
export interface PsDistrict {
  uuid: string;
  name: string;
  districtNumber: string;
}

export interface PsSchool {
  dcid: number;
  tableId: number;
  schoolNumber: number;
  name: string;
  lowGrade: number;
  highGrade: number;
  stateProvinceId: string;
}

export interface PsTerm {
  dcid: number;
  /** YearID × 100 + n (3500 is the 2025-26 year term), as community queries compute it. */
  tableId: number;
  schoolDcid: number;
  startYear: number;
  /** 1 = the year, 2 = semesters, 4 = quarters. */
  portion: number;
  name: string;
  abbreviation: string;
  startDate: string;
  endDate: string;
}

export interface PsCourse {
  dcid: number;
  courseNumber: string;
  courseName: string;
  /** Schools that offer the course (the catalogue is district-wide). */
  schoolDcids: number[];
}

export interface PsStaffAffiliation {
  schoolDcid: number;
  /** SchoolStaff.DCID: what a section's `staff_id` refers to. */
  schoolStaffDcid: number;
  /** 1 teacher, 2 staff (administrator), 3 lunch staff, 4 substitute. */
  type: number;
  /** 1 active, 2 inactive. */
  status: number;
}

export interface PsStaff {
  /** Users.DCID. */
  usersDcid: number;
  /** Teacher number. */
  localId: string;
  firstName: string;
  middleName: string | null;
  lastName: string;
  email: string | null;
  teacherUsername: string | null;
  adminUsername: string | null;
  affiliations: PsStaffAffiliation[];
}

export interface PsSection {
  dcid: number;
  tableId: number;
  schoolDcid: number;
  courseDcid: number;
  termDcid: number;
  /** SchoolStaff.DCID of the lead teacher, or null. */
  staffSchoolStaffDcid: number | null;
  sectionNumber: string;
  expression: string;
  room: string;
}

export type PsEnrollStatus = 'A' | 'P' | 'T' | 'G' | 'H' | 'I';

export interface PsStudent {
  dcid: number;
  tableId: number;
  /** Student number. */
  localId: number;
  stateProvinceId: string;
  username: string;
  firstName: string;
  middleName: string | null;
  lastName: string;
  gender: 'M' | 'F' | 'X';
  birthDate: string;
  schoolDcid: number;
  enrollStatus: PsEnrollStatus;
  gradeLevel: number;
  entryDate: string;
  /** Exclusive. */
  exitDate: string;
  email: string | null;
  phone: string | null;
  street: string | null;
  city: string | null;
  /** Federal race codes (I, A, B, P, W); empty = not reported. */
  races: string[];
  hispanic: boolean | null;
}

export interface PsSectionEnrollment {
  /** CC.DCID. */
  dcid: number;
  sectionDcid: number;
  studentDcid: number;
  entryDate: string;
  /** Exclusive. */
  exitDate: string;
  dropped: boolean;
}

export interface PowerSchoolDataset {
  district: PsDistrict;
  schools: PsSchool[];
  terms: PsTerm[];
  courses: PsCourse[];
  staff: PsStaff[];
  sections: PsSection[];
  students: PsStudent[];
  sectionEnrollments: PsSectionEnrollment[];
}

/** Enrolment statuses a school's student listing includes (its default criteria). */
export const LISTED_ENROLL_STATUSES: ReadonlySet<PsEnrollStatus> = new Set(['A', 'P']);

/** The calendar day before `date`. */
export function psDayBefore(date: string): string {
  const [year, month, day] = date.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, day - 1)).toISOString().slice(0, 10);
}

/** The calendar day after `date`. */
export function psDayAfter(date: string): string {
  const [year, month, day] = date.split('-').map(Number);
  return new Date(Date.UTC(year, month - 1, day + 1)).toISOString().slice(0, 10);
}

/**
 * What a correct sync of the whole district should mirror: one org per school plus the district, every term,
 * every course offered, every section, the listed students plus every active staff member (people), their
 * demographics, and the enrolments a sync creates (active, not dropped, not a no-show) plus one teacher
 * enrolment per section with a lead teacher.
 */
export function expectedMirrorCounts(dataset: PowerSchoolDataset): Record<string, number> {
  const listedStudents = dataset.students.filter((student) => LISTED_ENROLL_STATUSES.has(student.enrollStatus));
  const listedIds = new Set(listedStudents.map((student) => student.dcid));
  const staff = dataset.staff.filter((member) => member.affiliations.some((affiliation) => affiliation.status === 1));
  const offered = dataset.courses.filter((course) => course.schoolDcids.length > 0);
  const studentEnrollments = dataset.sectionEnrollments.filter(
    (enrollment) =>
      !enrollment.dropped &&
      psDayBefore(enrollment.exitDate) >= enrollment.entryDate &&
      listedIds.has(enrollment.studentDcid),
  );
  const teacherEnrollments = dataset.sections.filter((section) => section.staffSchoolStaffDcid !== null);
  return {
    orgs: dataset.schools.length + 1,
    academicSessions: dataset.terms.length,
    courses: offered.length,
    classes: dataset.sections.length,
    people: listedStudents.length + staff.length,
    demographics: listedStudents.length,
    enrollments: studentEnrollments.length + teacherEnrollments.length,
  };
}
