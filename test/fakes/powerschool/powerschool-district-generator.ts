import { SeededRandom } from '../oneroster/district-generator.js';
import {
  psDayAfter,
  type PowerSchoolDataset,
  type PsCourse,
  type PsSchool,
  type PsSection,
  type PsSectionEnrollment,
  type PsStaff,
  type PsStudent,
  type PsTerm,
} from './powerschool-dataset.js';

export interface GeneratePowerSchoolDistrictOptions {
  seed: number | string;
  /** Regular schools (the single-student school comes on top). */
  schools: number;
  /** Students across the regular schools. */
  students: number;
  /** Teachers across the regular schools (each school also gets one administrator). */
  teachers: number;
  /** Default 4. */
  sectionsPerTeacher?: number;
  /** Default 5 (capped by the sections a school has). */
  enrollmentsPerStudent?: number;
  /**
   * Add a school with exactly one student, teacher, term, course, section and enrolment, so every one of its
   * listings holds a single record (which PowerSchool sends as a bare object). Default true.
   */
  singleStudentSchool?: boolean;
  /**
   * The ending year of the school year. Default: the school year of today (UTC; from July, the one starting that
   * August), so the generated enrolments are the current ones outside the summer break.
   */
  schoolYear?: number;
  /** Share of section enrolments dropped (`dropped: true`, exit date = entry date). Default 0.03. */
  droppedShare?: number;
}

const GIVEN = [
  'José',
  'María',
  'Zoë',
  'Renée',
  'Siobhán',
  'Björn',
  'Łukasz',
  'Mateo',
  'Olivia',
  'Liam',
  'Aarav',
  'Mei',
];
const MORE_GIVEN = ['Oluwaseun', 'Fatima', 'Hiroshi', 'Ji-woo', 'Amara', 'Ethan', 'Priya', 'Kwame', 'Nadia', 'Diego'];
const FAMILY = [
  'Núñez',
  "O'Brien",
  'García',
  'Nguyễn',
  'Müller',
  "D'Angelo",
  'Van der Berg',
  'St. John',
  'Smith-Jones',
];
const MORE_FAMILY = ['Johnson', 'Williams', 'Brown', 'Lee', 'Kim', 'Patel', 'Okafor', 'Kowalski', 'Rossi', 'Cohen'];
const MIDDLE = ['Marie', 'James', 'Ann', 'Lee', 'Elena', 'Noël'];
const SUBJECTS = ['English', 'Mathematics', 'Science', 'History', 'Art', 'Music', 'Physical Education', 'Spanish'];
const LEVELS = ['I', 'II', 'III'];
const RACES = ['W', 'B', 'A', 'I', 'P'];
const GRADE_BANDS: readonly [number, number][] = [
  [0, 5],
  [6, 8],
  [9, 12],
];

/** The ending year of today's school year (UTC): 2027 for 2026-27, from July 2026 to June 2027. */
function currentSchoolYear(): number {
  const today = new Date();
  return today.getUTCMonth() >= 6 ? today.getUTCFullYear() + 1 : today.getUTCFullYear();
}

/**
 * A deterministic PowerSchool district (same seed, same data). DCIDs of different tables come from independent
 * sequences that overlap on purpose (student 5001 and staff member 5001 are different people), and DCID, table id
 * and local number always differ. Scales to 50,000 students (~250,000 enrolments) in well under a few seconds.
 */
export function generatePowerSchoolDistrict(options: GeneratePowerSchoolDistrictOptions): PowerSchoolDataset {
  const random = new SeededRandom(options.seed);
  const schoolYear = options.schoolYear ?? currentSchoolYear();
  const startYear = schoolYear - 1;
  const sectionsPerTeacher = options.sectionsPerTeacher ?? 4;
  const enrollmentsPerStudent = options.enrollmentsPerStudent ?? 5;
  const droppedShare = options.droppedShare ?? 0.03;
  const given = [...GIVEN, ...MORE_GIVEN];
  const family = [...FAMILY, ...MORE_FAMILY];

  const dataset: PowerSchoolDataset = {
    district: {
      uuid: uuidFrom(random),
      name: `${String(options.seed)} Unified School District`,
      districtNumber: String(4000 + random.int(900)),
    },
    schools: [],
    terms: [],
    courses: [],
    staff: [],
    sections: [],
    students: [],
    sectionEnrollments: [],
  };

  const yearStart = `${startYear}-08-18`;
  const yearEnd = `${schoolYear}-06-05`;
  const semesterOneEnd = `${schoolYear}-01-16`;
  const semesterTwoStart = `${schoolYear}-01-20`;
  const yearId = startYear - 1990;
  let termDcid = 7001;
  let usersDcid = 5001;
  let schoolStaffDcid = 20001;
  let sectionDcid = 9001;
  let studentDcid = 5001;
  let enrollmentDcid = 40001;

  const courses: PsCourse[] = [];
  const courseCount = Math.max(8, Math.min(60, options.schools * 6));
  for (let index = 0; index < courseCount; index++) {
    const subject = SUBJECTS[index % SUBJECTS.length];
    const level = LEVELS[Math.floor(index / SUBJECTS.length) % LEVELS.length];
    courses.push({
      dcid: 301 + index * 3,
      courseNumber: `${subject.slice(0, 3).toUpperCase()}${100 + index}`,
      courseName: `${subject} ${level}${index >= SUBJECTS.length * LEVELS.length ? ` (${index})` : ''}`,
      schoolDcids: [],
    });
  }
  dataset.courses = courses;

  const totalSchools = options.schools + (options.singleStudentSchool === false ? 0 : 1);
  for (let index = 0; index < totalSchools; index++) {
    const single = index === options.schools;
    const band = GRADE_BANDS[index % GRADE_BANDS.length];
    const school: PsSchool = {
      dcid: 101 + index * 7,
      tableId: index + 1,
      schoolNumber: 1000 + (index + 1) * 10,
      name: single
        ? 'Hillside Hospital School'
        : `${family[index % family.length]} ${['Elementary', 'Middle', 'High'][index % 3]}`,
      lowGrade: band[0],
      highGrade: band[1],
      stateProvinceId: `ST-${2000 + index}`,
    };
    dataset.schools.push(school);

    const year: PsTerm = {
      dcid: termDcid++,
      tableId: yearId * 100,
      schoolDcid: school.dcid,
      startYear,
      portion: 1,
      name: `${startYear}-${String(schoolYear).slice(2)}`,
      abbreviation: `${String(startYear).slice(2)}-${String(schoolYear).slice(2)}`,
      startDate: yearStart,
      endDate: yearEnd,
    };
    dataset.terms.push(year);
    const semesters: PsTerm[] = single
      ? []
      : [
          {
            ...year,
            dcid: termDcid++,
            tableId: yearId * 100 + 1,
            portion: 2,
            name: 'Semester 1',
            abbreviation: 'S1',
            endDate: semesterOneEnd,
          },
          {
            ...year,
            dcid: termDcid++,
            tableId: yearId * 100 + 2,
            portion: 2,
            name: 'Semester 2',
            abbreviation: 'S2',
            startDate: semesterTwoStart,
          },
        ];
    dataset.terms.push(...semesters);

    // Courses on offer: one for the single-student school (its own), a rotating subset elsewhere.
    const offered: PsCourse[] = [];
    if (single) {
      const own: PsCourse = {
        dcid: 301 + courseCount * 3,
        courseNumber: 'HSP100',
        courseName: 'Hospital Studies',
        schoolDcids: [],
      };
      courses.push(own);
      offered.push(own);
    } else {
      const share = Math.min(courses.length, 8);
      for (let step = 0; step < share; step++) offered.push(courses[(index * 3 + step) % courseCount]);
    }
    for (const course of offered) course.schoolDcids.push(school.dcid);

    // Staff: one administrator, then teachers.
    const teachersHere = single
      ? 1
      : Math.max(
          1,
          Math.floor(options.teachers / options.schools) + (index < options.teachers % options.schools ? 1 : 0),
        );
    const teacherAffiliations: number[] = [];
    if (!single) {
      const admin = newStaff(random, usersDcid++, given, family);
      admin.adminUsername = `admin${admin.usersDcid}`;
      admin.affiliations.push({ schoolDcid: school.dcid, schoolStaffDcid: schoolStaffDcid++, type: 2, status: 1 });
      dataset.staff.push(admin);
    }
    for (let count = 0; count < teachersHere; count++) {
      // The first teacher of every second school also teaches at the school before it (one person, two
      // SchoolStaff rows).
      const shared = !single && index > 0 && count === 0 && index % 2 === 1;
      const teacher = shared
        ? dataset.staff.find(
            (member) => member.teacherUsername && member.affiliations[0].schoolDcid === dataset.schools[index - 1].dcid,
          )
        : undefined;
      const member = teacher ?? newStaff(random, usersDcid++, given, family);
      member.teacherUsername ??= `t${member.usersDcid}`;
      const affiliation = { schoolDcid: school.dcid, schoolStaffDcid: schoolStaffDcid++, type: 1, status: 1 };
      member.affiliations.push(affiliation);
      if (!teacher) dataset.staff.push(member);
      teacherAffiliations.push(affiliation.schoolStaffDcid);
    }

    // Sections: each teacher teaches a few, mostly full-year.
    const schoolSections: PsSection[] = [];
    const terms = [year, ...semesters];
    for (const [teacherIndex, staffDcid] of teacherAffiliations.entries()) {
      const count = single ? 1 : sectionsPerTeacher;
      for (let period = 1; period <= count; period++) {
        const course = offered[(teacherIndex + period) % offered.length];
        const term = semesters.length > 0 && random.chance(0.2) ? random.pick(semesters) : year;
        const section: PsSection = {
          dcid: sectionDcid,
          tableId: sectionDcid - 8000,
          schoolDcid: school.dcid,
          courseDcid: course.dcid,
          termDcid: term.dcid,
          staffSchoolStaffDcid: staffDcid,
          sectionNumber: String(period),
          expression: `${period}(A)`,
          room: `${100 + period + teacherIndex * 10}`,
        };
        sectionDcid++;
        schoolSections.push(section);
      }
    }
    dataset.sections.push(...schoolSections);

    // Students.
    const studentsHere = single
      ? 1
      : Math.floor(options.students / options.schools) + (index < options.students % options.schools ? 1 : 0);
    for (let count = 0; count < studentsHere; count++) {
      const grade = band[0] + random.int(band[1] - band[0] + 1);
      const dcid = studentDcid++;
      const firstName = random.pick(given);
      const lastName = random.pick(family);
      const races = random.chance(0.1) ? [] : random.chance(0.1) ? [random.pick(RACES), 'W'] : [random.pick(RACES)];
      const student: PsStudent = {
        dcid,
        tableId: dcid - 4000 + 17,
        localId: 200000 + (dcid - 5001) * 3 + 1,
        stateProvinceId: String(9_000_000_000 + dcid * 13),
        username: `s${dcid}`,
        firstName,
        middleName: random.chance(0.5) ? random.pick(MIDDLE) : null,
        lastName,
        gender: random.chance(0.02) ? 'X' : random.chance(0.5) ? 'F' : 'M',
        birthDate: `${schoolYear - 6 - grade}-${pad(1 + random.int(12))}-${pad(1 + random.int(28))}`,
        schoolDcid: school.dcid,
        enrollStatus: 'A',
        gradeLevel: grade,
        entryDate: yearStart,
        exitDate: psDayAfter(yearEnd),
        email: random.chance(0.85) ? `s${dcid}@students.district.test` : null,
        phone: random.chance(0.7) ? `555-${pad(random.int(100))}${pad(random.int(100))}` : null,
        street: random.chance(0.9) ? `${1 + random.int(999)} Main St` : null,
        city: 'Springfield',
        races: [...new Set(races)],
        hispanic: random.chance(0.1) ? null : random.chance(0.3),
      };
      dataset.students.push(student);

      const wanted = Math.min(single ? 1 : enrollmentsPerStudent, schoolSections.length);
      const chosen = new Set<number>();
      while (chosen.size < wanted) chosen.add(random.int(schoolSections.length));
      for (const position of [...chosen].sort((a, b) => a - b)) {
        const section = schoolSections[position];
        const term = terms.find((candidate) => candidate.dcid === section.termDcid)!;
        const dropped = !single && random.chance(droppedShare);
        const enrollment: PsSectionEnrollment = {
          dcid: enrollmentDcid++,
          sectionDcid: section.dcid,
          studentDcid: dcid,
          entryDate: term.startDate,
          exitDate: dropped ? term.startDate : psDayAfter(term.endDate),
          dropped,
        };
        dataset.sectionEnrollments.push(enrollment);
      }
    }
  }
  return dataset;
}

function newStaff(
  random: SeededRandom,
  usersDcid: number,
  given: readonly string[],
  family: readonly string[],
): PsStaff {
  return {
    usersDcid,
    localId: `T${10_000 + usersDcid}`,
    firstName: random.pick(given),
    middleName: random.chance(0.3) ? random.pick(MIDDLE) : null,
    lastName: random.pick(family),
    email: random.chance(0.9) ? `staff${usersDcid}@district.test` : null,
    teacherUsername: null,
    adminUsername: null,
    affiliations: [],
  };
}

function uuidFrom(random: SeededRandom): string {
  const hex = Array.from({ length: 32 }, () => random.int(16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
