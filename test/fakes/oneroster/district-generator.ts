import type {
  OneRosterAcademicSession,
  OneRosterClass,
  OneRosterCourse,
  OneRosterDataset,
  OneRosterDemographics,
  OneRosterEnrollment,
  OneRosterOrg,
  OneRosterRole,
  OneRosterUser,
} from './oneroster-dataset.js';

export interface GenerateDistrictOptions {
  seed: number | string;
  schools: number;
  students: number;
  teachers: number;
  classes: number;
  /** Mean class enrollments per student; each gets the floor or the ceiling. Default 6.85 (~350k for 50k). */
  enrollmentsPerStudent?: number;
  /** Mean guardians per student (siblings share theirs). Default 1. */
  guardiansPerStudent?: number;
  /**
   * The newest `dateLastModified`; records are spread over the 120 days before it, and the school year is the one
   * it falls in (July onwards: the year starting that August). Default: the start (00:00 UTC) of today, so the
   * generated terms and enrollments are the current ones (during the summer break, from June 6 to August 17,
   * they are the next or the last year's) and a district is the same for the whole of a day.
   */
  startTime?: Date | string;
  /** One district administrator and one principal per school. Default true. */
  administrators?: boolean;
}

/** sfc32: small, fast and good enough; seeded through cyrb128 so string seeds work too. */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string) {
    [this.a, this.b, this.c, this.d] = cyrb128(String(seed));
    for (let warmUp = 0; warmUp < 15; warmUp++) this.next();
  }

  /** [0, 1). */
  next(): number {
    this.a |= 0;
    this.b |= 0;
    this.c |= 0;
    this.d |= 0;
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer in [0, bound). */
  int(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)];
  }
}

function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    h1 = h2 ^ Math.imul(h1 ^ code, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ code, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ code, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ code, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

const GIVEN_NAMES = [
  'José',
  'María',
  'Zoë',
  'Renée',
  'Chloé',
  'Siobhán',
  'François',
  'Anaïs',
  'Björn',
  'Łukasz',
  'Seán',
  'Ángel',
  'Lucía',
  'Mateo',
  'Olivia',
  'Liam',
  'Emma',
  'Noah',
  'Ava',
  'Sophia',
  'Aarav',
  'Mei',
  'Oluwaseun',
  'Fatima',
  'Hiroshi',
  'Ji-woo',
  'Dmitri',
  'Amara',
  'Ethan',
  'Isabella',
  'Mason',
  'Harper',
  'Elijah',
  'Camila',
  'Aiden',
  'Priya',
  'Kwame',
  'Nadia',
  'Diego',
  'Grace',
];

const FAMILY_NAMES = [
  'Núñez',
  "O'Brien",
  'Smith, Jr.',
  'García',
  'Nguyễn',
  'Müller',
  "D'Angelo",
  'Øvergaard',
  'Van der Berg',
  'St. John',
  'Smith-Jones',
  'Rodríguez',
  'Martínez',
  'Hernández',
  'López',
  'González',
  'Pérez',
  'Sánchez',
  'Ramírez',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Miller',
  'Davis',
  'Wilson',
  'Anderson',
  'Taylor',
  'Thomas',
  'Moore',
  'Jackson',
  'Lee',
  'Kim',
  'Patel',
  'Okafor',
  'Kowalski',
  'Johansson',
  'Rossi',
  'Cohen',
  'Walker',
  'Wright',
  'Flores',
  'Rivera',
  'Campbell',
  'Mitchell',
  'Roberts',
  'Young',
  'Allen',
  'King',
  'Scott',
];

const MIDDLE_NAMES = ['Marie', 'James', 'Ann', 'Lee', 'Elena', 'José', 'Grace', 'Ray', 'Noël', 'Jean'];
const PREFERRED_NAMES: Readonly<Record<string, string>> = {
  José: 'Pepe',
  María: 'Mari',
  Isabella: 'Bella',
  Elijah: 'Eli',
  Dmitri: 'Dima',
  Oluwaseun: 'Seun',
  Łukasz: 'Luke',
  Sophia: 'Sophie',
};
const PRONOUNS = ['she/her', 'he/him', 'they/them'];
const CITIES = ['Springfield', 'San José', 'Saint-Jérôme', "Coeur d'Alene", 'Portland', 'Austin', 'Chicago', 'Miami'];
const STATES = ['CA', 'TX', 'IL', 'FL', 'OR', 'ID', 'NY', 'WA'];
const SCHOOL_NAMES = [
  'Lincoln',
  'Washington',
  'Roosevelt',
  'Jefferson',
  'Cesar Chavez',
  'Sojourner Truth',
  "Saint Mary's",
  'Maple Grove',
  'Riverside',
  'Oak Hill',
  'Lakeview',
  'Sunnyside',
];
const LEVELS = [
  { suffix: 'Elementary School', grades: ['KG', '01', '02', '03', '04', '05'] },
  { suffix: 'Middle School', grades: ['06', '07', '08'] },
  { suffix: 'High School', grades: ['09', '10', '11', '12'] },
] as const;
const ELEMENTARY_SUBJECTS = ['Homeroom', 'Reading', 'Mathematics', 'Science', 'Social Studies', 'Art', 'Music', 'PE'];
const SECONDARY_SUBJECTS = [
  'English',
  'Mathematics',
  'Biology',
  'Chemistry',
  'World History',
  'Spanish',
  'Art',
  'Music',
  'PE',
  'Computer Science',
];
const SUBJECT_CODES: Readonly<Record<string, string>> = {
  Homeroom: '00000',
  Reading: '51036',
  English: '01001',
  Mathematics: '02001',
  Science: '03001',
  Biology: '03051',
  Chemistry: '03101',
  'Social Studies': '04001',
  'World History': '04051',
  Spanish: '06101',
  Art: '05154',
  Music: '05101',
  PE: '08001',
  'Computer Science': '10011',
};
const GUARDIAN_ROLES: readonly OneRosterRole[] = [
  'parent',
  'parent',
  'parent',
  'parent',
  'guardian',
  'guardian',
  'relative',
];
const RESIDENCE_STATUSES = ['01652', '01653', '01654'];

const DAY_MS = 86_400_000;

/** 00:00 UTC of the current day: never after now, and the same all day long. */
function startOfToday(): number {
  return Math.floor(Date.now() / DAY_MS) * DAY_MS;
}

/** Deterministic for a given option set: same seed, same district, byte for byte. */
export function generateDistrict(options: GenerateDistrictOptions): OneRosterDataset {
  const random = new SeededRandom(options.seed);
  const startMs = options.startTime === undefined ? startOfToday() : new Date(options.startTime).getTime();
  if (Number.isNaN(startMs))
    throw new RangeError(`generateDistrict: startTime ${String(options.startTime)} is not a date`);
  // A shared pool of timestamps keeps 350k records from each owning its own string.
  const timestamps = Array.from({ length: 2048 }, () =>
    new Date(startMs - Math.floor(random.next() * 120 * DAY_MS)).toISOString(),
  ).sort();
  timestamps[timestamps.length - 1] = new Date(startMs).toISOString();
  const modified = (): string => timestamps[random.int(timestamps.length)];

  const start = new Date(startMs);
  const firstYear = start.getUTCMonth() >= 6 ? start.getUTCFullYear() : start.getUTCFullYear() - 1;
  const schoolYear = String(firstYear + 1);
  const districtId = 'org-0000';
  const pad = (value: number, width: number): string => String(value).padStart(width, '0');
  const width = (count: number): number => Math.max(4, String(count).length);

  const orgs: OneRosterOrg[] = [
    {
      sourcedId: districtId,
      status: 'active',
      dateLastModified: modified(),
      name: 'Riverside Unified School District',
      type: 'district',
      identifier: '0612345',
      parentSourcedId: null,
    },
  ];
  const schoolGrades: (readonly string[])[] = [];
  const schoolWidth = width(options.schools);
  for (let index = 0; index < options.schools; index++) {
    const level = LEVELS[index % LEVELS.length];
    const baseName = SCHOOL_NAMES[Math.floor(index / LEVELS.length) % SCHOOL_NAMES.length];
    const round = Math.floor(index / (LEVELS.length * SCHOOL_NAMES.length));
    orgs.push({
      sourcedId: `org-${pad(index + 1, schoolWidth)}`,
      status: 'active',
      dateLastModified: modified(),
      name: `${baseName}${round > 0 ? ` ${round + 1}` : ''} ${level.suffix}`,
      type: 'school',
      identifier: `0612345${pad(index + 1, 5)}`,
      parentSourcedId: districtId,
    });
    schoolGrades.push(level.grades);
  }
  const schoolIds = orgs.slice(1).map((org) => org.sourcedId);

  const yearId = `as-${schoolYear}`;
  const terms = [
    { id: `${yearId}-t1`, title: `Fall ${firstYear}`, start: `${firstYear}-08-18`, end: `${firstYear}-12-19` },
    {
      id: `${yearId}-t2`,
      title: `Spring ${firstYear + 1}`,
      start: `${firstYear + 1}-01-05`,
      end: `${firstYear + 1}-06-05`,
    },
  ];
  const academicSessions: OneRosterAcademicSession[] = [
    {
      sourcedId: yearId,
      status: 'active',
      dateLastModified: modified(),
      title: `${firstYear}-${firstYear + 1}`,
      type: 'schoolYear',
      startDate: `${firstYear}-08-01`,
      endDate: `${firstYear + 1}-06-30`,
      parentSourcedId: null,
      schoolYear,
      orgSourcedId: districtId,
    },
    ...terms.map((term): OneRosterAcademicSession => ({
      sourcedId: term.id,
      status: 'active',
      dateLastModified: modified(),
      title: term.title,
      type: 'term',
      startDate: term.start,
      endDate: term.end,
      parentSourcedId: yearId,
      schoolYear,
      orgSourcedId: districtId,
    })),
  ];

  // Courses: one per (school, grade, subject), so every class maps to a single grade.
  const courses: OneRosterCourse[] = [];
  const coursesBySchool: OneRosterCourse[][] = schoolIds.map(() => []);
  const courseWidth = width(options.schools * 6 * SECONDARY_SUBJECTS.length);
  schoolIds.forEach((schoolId, schoolIndex) => {
    const grades = schoolGrades[schoolIndex];
    const subjects = grades[0] === 'KG' ? ELEMENTARY_SUBJECTS : SECONDARY_SUBJECTS;
    for (const subject of subjects) {
      for (const grade of grades) {
        const course: OneRosterCourse = {
          sourcedId: `crs-${pad(courses.length + 1, courseWidth)}`,
          status: 'active',
          dateLastModified: modified(),
          title: `${subject} ${grade === 'KG' ? 'K' : Number(grade)}`,
          courseCode: `${subject.slice(0, 4).toUpperCase().replace(/ /g, '')}-${grade}`,
          grades: [grade],
          subjects: [subject],
          subjectCodes: [SUBJECT_CODES[subject]],
          orgSourcedId: schoolId,
          schoolYearSourcedId: yearId,
        };
        courses.push(course);
        coursesBySchool[schoolIndex].push(course);
      }
    }
  });

  // Classes: round-robin over schools, then over the school's courses.
  const classes: OneRosterClass[] = [];
  const classWidth = width(options.classes);
  const classSchoolIndex = new Int32Array(options.classes);
  const classesBySchoolGrade = new Map<string, number[]>();
  const classesBySchool: number[][] = schoolIds.map(() => []);
  const perSchoolCounter = new Int32Array(Math.max(1, schoolIds.length));
  for (let index = 0; index < options.classes && schoolIds.length > 0; index++) {
    const schoolIndex = index % schoolIds.length;
    const schoolCourses = coursesBySchool[schoolIndex];
    const ordinal = perSchoolCounter[schoolIndex]++;
    const course = schoolCourses[ordinal % schoolCourses.length];
    const section = Math.floor(ordinal / schoolCourses.length) + 1;
    const termRoll = random.next();
    const termIds = termRoll < 0.7 ? [terms[0].id, terms[1].id] : termRoll < 0.85 ? [terms[0].id] : [terms[1].id];
    const period = String(1 + (ordinal % 8));
    classes.push({
      sourcedId: `cls-${pad(index + 1, classWidth)}`,
      status: 'active',
      dateLastModified: modified(),
      title: `${course.title} - Section ${section}`,
      classCode: `${course.courseCode}-${pad(section, 2)}`,
      classType: course.subjects[0] === 'Homeroom' ? 'homeroom' : 'scheduled',
      location: `Room ${100 + random.int(200)}`,
      grades: [...course.grades],
      subjects: [...course.subjects],
      subjectCodes: [...course.subjectCodes],
      periods: [period],
      courseSourcedId: course.sourcedId,
      schoolSourcedId: schoolIds[schoolIndex],
      termSourcedIds: termIds,
    });
    classSchoolIndex[index] = schoolIndex;
    classesBySchool[schoolIndex].push(index);
    const key = `${schoolIndex}|${course.grades[0]}`;
    let group = classesBySchoolGrade.get(key);
    if (!group) classesBySchoolGrade.set(key, (group = []));
    group.push(index);
  }

  const users: OneRosterUser[] = [];
  const demographics: OneRosterDemographics[] = [];
  let nextPersonId = 1_000_000;
  const newPerson = (
    kind: 'student' | 'staff' | 'guardian',
    role: OneRosterRole,
    orgSourcedId: string,
    grades: string[],
    names?: readonly [string, string, string | null],
  ): OneRosterUser => {
    const sourcedId = String(nextPersonId++);
    const givenName = names ? names[0] : random.pick(GIVEN_NAMES);
    const familyName = names ? names[1] : random.pick(FAMILY_NAMES);
    const login = `${asciiFold(givenName).slice(0, 1)}${asciiFold(familyName)}${sourcedId.slice(-6)}`;
    const domain =
      kind === 'student' ? 'students.riverside.example.org' : kind === 'staff' ? 'riverside.example.org' : null;
    const preferred = PREFERRED_NAMES[givenName];
    const person: OneRosterUser = {
      sourcedId,
      status: 'active',
      dateLastModified: modified(),
      enabledUser: kind !== 'guardian' || random.chance(0.9),
      username: login,
      userIds: [
        {
          type: kind === 'student' ? 'studentNumber' : 'LDAP',
          identifier: kind === 'student' ? `S${sourcedId}` : login,
        },
      ],
      givenName,
      familyName,
      middleName: names ? names[2] : random.chance(0.4) ? random.pick(MIDDLE_NAMES) : null,
      preferredFirstName: preferred && random.chance(0.5) ? preferred : null,
      preferredMiddleName: null,
      preferredLastName: null,
      pronouns: random.chance(0.1) ? random.pick(PRONOUNS) : null,
      identifier: kind === 'student' ? `S${sourcedId}` : kind === 'staff' ? `E${sourcedId}` : null,
      email: domain ? `${login}@${domain}` : random.chance(0.8) ? `${login}@mail.example.com` : null,
      sms:
        kind === 'guardian' && random.chance(0.5)
          ? `+1555010${random.int(10)}${random.int(10)}${random.int(10)}`
          : null,
      phone: kind === 'student' ? null : `+1-555-01${random.int(10)}${random.int(10)}`,
      userMasterIdentifier: kind === 'student' ? `CA${sourcedId}` : null,
      roles: [{ roleType: 'primary', role, orgSourcedId, beginDate: null, endDate: null }],
      primaryOrgSourcedId: orgSourcedId,
      agentSourcedIds: [],
      grades,
      legacySourcedId: null,
    };
    users.push(person);
    return person;
  };

  // Fixed first names make the quoting and accent cases certain even in tiny districts.
  const edgeCaseNames: (readonly [string, string, string | null])[] = [
    ['José', 'Núñez', null],
    ['Siobhán', "O'Brien", null],
    ['Robert', 'Smith, Jr.', 'Ann "Annie"'],
  ];

  const students: OneRosterUser[] = [];
  const studentSchool = new Int32Array(options.students);
  const studentGrade: string[] = [];
  for (let index = 0; index < options.students && schoolIds.length > 0; index++) {
    const schoolIndex = random.int(schoolIds.length);
    const grade = random.pick(schoolGrades[schoolIndex]);
    const student = newPerson('student', 'student', schoolIds[schoolIndex], [grade], edgeCaseNames[index]);
    students.push(student);
    studentSchool[index] = schoolIndex;
    studentGrade.push(grade);
    const gradeNumber = grade === 'KG' ? 0 : Number(grade);
    const birthYear = firstYear - 6 - gradeNumber + (random.chance(0.75) ? 1 : 0);
    const races = [
      random.chance(0.02),
      random.chance(0.1),
      random.chance(0.15),
      random.chance(0.01),
      random.chance(0.5),
    ];
    const raceCount = races.filter(Boolean).length;
    const bornAbroad = random.chance(0.08);
    demographics.push({
      sourcedId: student.sourcedId,
      status: 'active',
      dateLastModified: student.dateLastModified,
      birthDate: `${birthYear}-${pad(1 + random.int(12), 2)}-${pad(1 + random.int(28), 2)}`,
      sex: random.chance(0.5) ? 'female' : 'male',
      americanIndianOrAlaskaNative: races[0],
      asian: races[1],
      blackOrAfricanAmerican: races[2],
      nativeHawaiianOrOtherPacificIslander: races[3],
      white: races[4],
      demographicRaceTwoOrMoreRaces: raceCount > 1,
      hispanicOrLatinoEthnicity: random.chance(0.3),
      countryOfBirthCode: bornAbroad ? random.pick(['MX', 'CA', 'VN', 'IN', 'PH']) : 'US',
      stateOfBirthAbbreviation: bornAbroad ? null : random.pick(STATES),
      cityOfBirth: random.pick(CITIES),
      publicSchoolResidenceStatus: random.pick(RESIDENCE_STATUSES),
    });
  }

  const teachers: OneRosterUser[] = [];
  const teachersBySchool: OneRosterUser[][] = schoolIds.map(() => []);
  for (let index = 0; index < options.teachers && schoolIds.length > 0; index++) {
    const schoolIndex = index % schoolIds.length;
    const teacher = newPerson('staff', 'teacher', schoolIds[schoolIndex], []);
    if (schoolIds.length > 1 && random.chance(0.08)) {
      const other = (schoolIndex + 1 + random.int(schoolIds.length - 1)) % schoolIds.length;
      teacher.roles.push({
        roleType: 'secondary',
        role: 'teacher',
        orgSourcedId: schoolIds[other],
        beginDate: null,
        endDate: null,
      });
    }
    teachers.push(teacher);
    teachersBySchool[schoolIndex].push(teacher);
  }

  const link = (student: OneRosterUser, guardian: OneRosterUser): void => {
    if (student.agentSourcedIds.includes(guardian.sourcedId)) return;
    student.agentSourcedIds.push(guardian.sourcedId);
    guardian.agentSourcedIds.push(student.sourcedId);
  };
  const guardiansPerStudent = options.guardiansPerStudent ?? 1;
  let previousGuardians: OneRosterUser[] = [];
  students.forEach((student, index) => {
    if (index > 0 && previousGuardians.length > 0 && random.chance(0.2)) {
      for (const guardian of previousGuardians) link(student, guardian);
      return;
    }
    const count = Math.floor(guardiansPerStudent) + (random.chance(guardiansPerStudent % 1) ? 1 : 0);
    previousGuardians = [];
    for (let guardianIndex = 0; guardianIndex < count; guardianIndex++) {
      const guardian = newPerson('guardian', random.pick(GUARDIAN_ROLES), schoolIds[studentSchool[index]], []);
      guardian.familyName = guardianIndex === 0 ? student.familyName : guardian.familyName;
      link(student, guardian);
      previousGuardians.push(guardian);
    }
  });
  // Some teachers are also parents: one person, two roles (1.1 shows two users).
  if (students.length > 0) {
    for (const teacher of teachers) {
      if (!random.chance(0.05)) continue;
      const childIndex = random.int(students.length);
      teacher.roles.push({
        roleType: 'secondary',
        role: 'parent',
        orgSourcedId: schoolIds[studentSchool[childIndex]],
        beginDate: null,
        endDate: null,
      });
      link(students[childIndex], teacher);
    }
  }

  if (options.administrators ?? true) {
    newPerson('staff', 'districtAdministrator', districtId, []);
    schoolIds.forEach((schoolId) => newPerson('staff', 'principal', schoolId, []));
  }

  const enrollments: OneRosterEnrollment[] = [];
  const enrollmentWidth = Math.max(7, String(Math.ceil(options.students * 8 + options.classes * 2)).length);
  const termDates = new Map(terms.map((term) => [term.id, term]));
  const addEnrollment = (
    classIndex: number,
    userSourcedId: string,
    role: 'student' | 'teacher',
    primary: boolean,
  ): void => {
    const schoolClass = classes[classIndex];
    const first = termDates.get(schoolClass.termSourcedIds[0])!;
    const last = termDates.get(schoolClass.termSourcedIds[schoolClass.termSourcedIds.length - 1])!;
    enrollments.push({
      sourcedId: `enr-${pad(enrollments.length + 1, enrollmentWidth)}`,
      status: 'active',
      dateLastModified: modified(),
      classSourcedId: schoolClass.sourcedId,
      schoolSourcedId: schoolClass.schoolSourcedId,
      userSourcedId,
      role,
      primary,
      beginDate: first.start,
      endDate: last.end,
    });
  };

  for (let classIndex = 0; classIndex < classes.length; classIndex++) {
    const local = teachersBySchool[classSchoolIndex[classIndex]];
    const pool = local.length > 0 ? local : teachers;
    if (pool.length === 0) break;
    const lead = pool[classIndex % pool.length];
    addEnrollment(classIndex, lead.sourcedId, 'teacher', true);
    if (pool.length > 1 && random.chance(0.15)) {
      const coTeacher = pool[(classIndex + 1 + random.int(pool.length - 1)) % pool.length];
      addEnrollment(classIndex, coTeacher.sourcedId, 'teacher', false);
    }
  }

  const perStudent = options.enrollmentsPerStudent ?? 6.85;
  const chosen: number[] = [];
  if (classes.length > 0) {
    students.forEach((student, index) => {
      const schoolIndex = studentSchool[index];
      const gradeGroup = classesBySchoolGrade.get(`${schoolIndex}|${studentGrade[index]}`);
      const schoolGroup = classesBySchool[schoolIndex];
      const pool = gradeGroup && gradeGroup.length > 0 ? gradeGroup : schoolGroup.length > 0 ? schoolGroup : null;
      const wanted = Math.floor(perStudent) + (random.chance(perStudent % 1) ? 1 : 0);
      chosen.length = 0;
      if (pool) {
        const count = Math.min(wanted, pool.length);
        while (chosen.length < count) {
          const candidate = pool[random.int(pool.length)];
          if (!chosen.includes(candidate)) chosen.push(candidate);
        }
      } else {
        const count = Math.min(wanted, classes.length);
        while (chosen.length < count) {
          const candidate = random.int(classes.length);
          if (!chosen.includes(candidate)) chosen.push(candidate);
        }
      }
      for (const classIndex of chosen) addEnrollment(classIndex, student.sourcedId, 'student', false);
    });
  }

  return { orgs, academicSessions, courses, classes, users, enrollments, demographics };
}

const FOLDED: Readonly<Record<string, string>> = { ø: 'o', Ø: 'o', ł: 'l', Ł: 'l', ß: 'ss', æ: 'ae', Æ: 'ae' };
function asciiFold(name: string): string {
  return name
    .replace(/[øØłŁßæÆ]/g, (character) => FOLDED[character])
    .normalize('NFD')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();
}
