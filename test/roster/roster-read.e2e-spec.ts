import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { createUserToken, walkPages } from './roster-client.js';
import { seedRoster, type SeededRoster } from './seed-roster.js';

const PASSWORD = 'a-long-enough-password';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

type Caller =
  'admin' | 'sisOperator' | 'complianceOfficer' | 'northAdmin' | 'southAdmin' | 'rivera' | 'teacherWithoutClasses';

interface Named {
  id: string;
  givenName: string;
  familyName: string;
}

describe('roster read side', () => {
  let testApp: TestApp;
  let url: string;
  let district: SeededRoster;
  let bay: SeededRoster;
  const tokens = {} as Record<Caller, string>;

  const get = (caller: Caller, path: string) => request(url).get(`/api/v1${path}`).set(bearer(tokens[caller]));
  const names = (items: Named[]) => items.map((person) => `${person.givenName} ${person.familyName}`);
  /** Name order follows the database collation, so lists are compared as sets where names are not ASCII. */
  const sortedNames = (items: Named[]) => names(items).sort();
  const titles = (items: { title: string }[]) => items.map((item) => item.title);
  const student = (sourcedId: string) => district.id('people', sourcedId);
  const cls = (sourcedId: string) => district.id('classes', sourcedId);

  const createUser = (email: string, roles: string[], schoolIds: string[] = []): Promise<string> =>
    createUserToken(url, tokens.admin, email, roles, schoolIds);

  /** Follows `nextCursor` to the end and returns every item in order. */
  const walk = <T extends { id: string }>(caller: Caller, path: string): Promise<T[]> =>
    walkPages<T>((page) => get(caller, page), path);

  beforeAll(async () => {
    testApp = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    url = testApp.url;
    district = await seedRoster(testApp.databaseUrl, {
      connectionName: 'Unified SIS',
      orgs: [
        { sourcedId: 'dist', name: 'Unified District', type: 'district' },
        { sourcedId: 'sch-north', name: 'North High', identifier: 'NHS' },
        { sourcedId: 'sch-south', name: 'South Middle' },
        { sourcedId: 'sch-closed', name: 'Closed Elementary', status: 'inactive' },
      ],
      courses: [{ sourcedId: 'crs-alg', title: 'Algebra I', courseCode: 'ALG1', org: 'sch-north' }],
      classes: [
        { sourcedId: 'cls-alg', title: 'Algebra I', school: 'sch-north', course: 'crs-alg', classCode: 'ALG1-2' },
        { sourcedId: 'cls-bio', title: 'Biology', school: 'sch-north' },
        { sourcedId: 'cls-art', title: 'Art', school: 'sch-south' },
        { sourcedId: 'cls-latin', title: 'Latin', school: 'sch-north', status: 'inactive' },
      ],
      people: [
        {
          sourcedId: 'tch-rivera',
          givenName: 'Elena',
          familyName: 'Rivera',
          role: 'teacher',
          email: 'Ms.Rivera@District.TEST',
          orgs: ['sch-north'],
        },
        {
          sourcedId: 'tch-chen',
          givenName: 'Wei',
          familyName: 'Chen',
          role: 'teacher',
          email: 'mr.chen@district.test',
          orgs: ['sch-south'],
        },
        {
          sourcedId: 'stu-jose',
          givenName: 'José',
          familyName: 'Núñez',
          role: 'student',
          identifier: '10042',
          username: 'jnunez',
          email: 'jose.nunez@students.district.test',
          orgs: ['sch-north'],
          agents: ['grd-pedro'],
          grades: ['09'],
        },
        { sourcedId: 'stu-ana', givenName: 'Ana', familyName: 'López', role: 'student', orgs: ['sch-north'] },
        { sourcedId: 'stu-zoe', givenName: 'Zoë', familyName: 'Ødegaard', role: 'student', orgs: ['sch-south'] },
        { sourcedId: 'stu-josefina', givenName: 'Josefina', familyName: 'Nunes', role: 'student', orgs: ['sch-south'] },
        { sourcedId: 'stu-sam', givenName: 'Sam', familyName: 'Cross', role: 'student', orgs: ['sch-south'] },
        { sourcedId: 'stu-dana', givenName: 'Dana', familyName: 'Dropped', role: 'student', orgs: ['sch-north'] },
        {
          sourcedId: 'stu-carl',
          givenName: 'Carl',
          familyName: 'Gone',
          role: 'student',
          orgs: ['sch-north'],
          status: 'inactive',
        },
        { sourcedId: 'stu-kim-1', givenName: 'Kim', familyName: 'Lee', role: 'student', orgs: ['sch-north'] },
        { sourcedId: 'stu-kim-2', givenName: 'Kim', familyName: 'Lee', role: 'student', orgs: ['sch-north'] },
        {
          sourcedId: 'grd-maria',
          givenName: 'María',
          familyName: 'Núñez',
          role: 'guardian',
          agents: ['stu-jose'],
          phone: '555-0100',
        },
        { sourcedId: 'grd-pedro', givenName: 'Pedro', familyName: 'Núñez', role: 'parent' },
        {
          sourcedId: 'grd-old',
          givenName: 'Olga',
          familyName: 'Núñez',
          role: 'guardian',
          agents: ['stu-jose'],
          status: 'inactive',
        },
      ],
      enrollments: [
        {
          class: 'cls-alg',
          user: 'tch-rivera',
          role: 'teacher',
          primary: true,
          beginDate: '2026-08-20',
          endDate: '2027-06-10',
        },
        { class: 'cls-alg', user: 'stu-jose', role: 'student', beginDate: '2026-08-20' },
        { class: 'cls-alg', user: 'stu-sam', role: 'student' },
        { class: 'cls-alg', user: 'stu-carl', role: 'student' },
        { class: 'cls-alg', user: 'stu-dana', role: 'student', status: 'inactive' },
        { class: 'cls-bio', user: 'tch-rivera', role: 'teacher', status: 'inactive' },
        { class: 'cls-bio', user: 'stu-ana', role: 'student' },
        { class: 'cls-bio', user: 'stu-kim-1', role: 'student' },
        { class: 'cls-bio', user: 'stu-kim-2', role: 'student' },
        { class: 'cls-art', user: 'tch-chen', role: 'teacher', primary: true },
        { class: 'cls-art', user: 'stu-zoe', role: 'student' },
        { class: 'cls-art', user: 'stu-josefina', role: 'student' },
        { class: 'cls-latin', user: 'tch-rivera', role: 'teacher' },
        { class: 'cls-latin', user: 'stu-ana', role: 'student' },
      ],
      demographics: [{ sourcedId: 'stu-jose', birthDate: '2010-05-04', sex: 'male', hispanicOrLatino: true }],
    });
    // A second connection reusing a class sourcedId of the first: nothing may leak across connections.
    bay = await seedRoster(testApp.databaseUrl, {
      orgs: [{ sourcedId: 'sch-bay', name: 'Bay School' }],
      classes: [{ sourcedId: 'cls-alg', title: 'Algebra I (Bay)', school: 'sch-bay' }],
      people: [{ sourcedId: 'stu-bea', givenName: 'Bea', familyName: 'Bay', role: 'student', orgs: ['sch-bay'] }],
      enrollments: [{ class: 'cls-alg', user: 'stu-bea', role: 'student' }],
    });

    tokens.admin = (await login(url)).accessToken;
    tokens.sisOperator = await createUser('sis@district.test', ['sis_operator']);
    tokens.complianceOfficer = await createUser('compliance@district.test', ['compliance_officer']);
    tokens.northAdmin = await createUser(
      'north.admin@district.test',
      ['school_admin'],
      [district.id('orgs', 'sch-north')],
    );
    tokens.southAdmin = await createUser('south.admin@district.test', ['school_admin'], ['sch-south']);
    tokens.rivera = await createUser('ms.rivera@district.test', ['teacher']);
    tokens.teacherWithoutClasses = await createUser('no.classes@district.test', ['teacher']);
  });

  afterAll(async () => {
    await testApp.close();
  });

  const ALL_STUDENTS = [
    'Bea Bay',
    'Sam Cross',
    'Dana Dropped',
    'Kim Lee',
    'Kim Lee',
    'Ana López',
    'Josefina Nunes',
    'José Núñez',
    'Zoë Ødegaard',
  ];

  describe('what each role sees in lists', () => {
    it.each<[Caller, string[], string[], string[]]>([
      [
        'admin',
        ['Bay School', 'North High', 'South Middle'],
        ['Algebra I', 'Algebra I (Bay)', 'Art', 'Biology'],
        ALL_STUDENTS,
      ],
      [
        'sisOperator',
        ['Bay School', 'North High', 'South Middle'],
        ['Algebra I', 'Algebra I (Bay)', 'Art', 'Biology'],
        ALL_STUDENTS,
      ],
      [
        'complianceOfficer',
        ['Bay School', 'North High', 'South Middle'],
        ['Algebra I', 'Algebra I (Bay)', 'Art', 'Biology'],
        ALL_STUDENTS,
      ],
      [
        'northAdmin',
        ['North High'],
        ['Algebra I', 'Biology'],
        ['Sam Cross', 'Dana Dropped', 'Kim Lee', 'Kim Lee', 'Ana López', 'José Núñez'],
      ],
      ['southAdmin', ['South Middle'], ['Art'], ['Sam Cross', 'Josefina Nunes', 'Zoë Ødegaard']],
      ['rivera', ['North High'], ['Algebra I'], ['Sam Cross', 'José Núñez']],
      ['teacherWithoutClasses', [], [], []],
    ])('%s', async (caller, schools, classes, students) => {
      const schoolPage = await get(caller, '/schools').expect(200);
      expect(schoolPage.body.items.map((school: { name: string }) => school.name)).toEqual(schools);
      expect(schoolPage.body.nextCursor).toBeNull();
      const classPage = await get(caller, '/classes').expect(200);
      expect(titles(classPage.body.items)).toEqual(classes);
      const studentPage = await get(caller, '/students').expect(200);
      expect(sortedNames(studentPage.body.items)).toEqual([...students].sort());
    });

    it('shows local ids, sourcedIds, status and dateLastModified, and never a sourcedId as an id', async () => {
      const classes = await get('admin', '/classes').expect(200);
      const algebra = classes.body.items.find((item: { sourcedId: string; id: string }) => item.id === cls('cls-alg'));
      expect(algebra).toEqual({
        id: cls('cls-alg'),
        sourcedId: 'cls-alg',
        status: 'active',
        dateLastModified: '2026-09-01T12:00:00.000Z',
        title: 'Algebra I',
        classCode: 'ALG1-2',
        classType: 'scheduled',
        location: null,
        grades: [],
        subjects: [],
        periods: [],
        school: { id: district.id('orgs', 'sch-north'), sourcedId: 'sch-north', name: 'North High' },
        course: { id: district.id('courses', 'crs-alg'), sourcedId: 'crs-alg', title: 'Algebra I', courseCode: 'ALG1' },
        source: { connectionId: district.connectionId, connectionName: 'Unified SIS' },
      });
      const students = await get('admin', '/students?search=10042').expect(200);
      expect(students.body.items[0]).toMatchObject({
        id: student('stu-jose'),
        sourcedId: 'stu-jose',
        status: 'active',
        identifier: '10042',
        grades: ['09'],
        schools: [{ id: district.id('orgs', 'sch-north'), sourcedId: 'sch-north', name: 'North High' }],
        source: { connectionId: district.connectionId, connectionName: 'Unified SIS' },
      });
    });

    it('filters by school, within the scope only', async () => {
      const north = district.id('orgs', 'sch-north');
      const south = district.id('orgs', 'sch-south');
      expect(titles((await get('admin', `/classes?schoolId=${north}`).expect(200)).body.items)).toEqual([
        'Algebra I',
        'Biology',
      ]);
      expect((await get('southAdmin', `/classes?schoolId=${north}`).expect(200)).body.items).toEqual([]);
      expect((await get('admin', `/classes?schoolId=${UNKNOWN_ID}`).expect(200)).body.items).toEqual([]);
      expect(sortedNames((await get('admin', `/students?schoolId=${south}`).expect(200)).body.items)).toEqual([
        'Josefina Nunes',
        'Sam Cross',
        'Zoë Ødegaard',
      ]);
      expect(names((await get('rivera', `/students?schoolId=${south}`).expect(200)).body.items)).toEqual(['Sam Cross']);
      expect(names((await get('admin', `/students?search=nunez&schoolId=${south}`).expect(200)).body.items)).toEqual([
        'Josefina Nunes',
      ]);
    });
  });

  describe('filters by SIS connection', () => {
    it('lists the classes of one connection, within the scope only; an unknown one gives an empty page', async () => {
      expect(titles((await get('admin', `/classes?connectionId=${bay.connectionId}`).expect(200)).body.items)).toEqual([
        'Algebra I (Bay)',
      ]);
      const north = district.id('orgs', 'sch-north');
      const both = await get('admin', `/classes?connectionId=${district.connectionId}&schoolId=${north}`).expect(200);
      expect(titles(both.body.items)).toEqual(['Algebra I', 'Biology']);
      expect((await get('rivera', `/classes?connectionId=${bay.connectionId}`).expect(200)).body.items).toEqual([]);
      expect((await get('admin', `/classes?connectionId=${UNKNOWN_ID}`).expect(200)).body.items).toEqual([]);
      const malformed = await get('admin', '/classes?connectionId=bay').expect(400);
      expect(malformed.body.code).toBe('REQUEST.VALIDATION_FAILED');
    });
  });

  describe('class rosters', () => {
    it('lists active enrollments with their people, teachers first', async () => {
      const response = await get('rivera', `/classes/${cls('cls-alg')}/roster`).expect(200);
      expect(response.body.class).toMatchObject({ id: cls('cls-alg'), title: 'Algebra I' });
      const members = response.body.members as {
        role: string;
        primary: boolean;
        beginDate: string | null;
        endDate: string | null;
        enrollment: { id: string; status: string };
        person: Named & { sourcedId: string };
      }[];
      expect(members.map((member) => [member.role, member.primary, member.person.familyName])).toEqual([
        ['teacher', true, 'Rivera'],
        ['student', false, 'Cross'],
        ['student', false, 'Núñez'],
      ]);
      expect(members[0]).toMatchObject({ beginDate: '2026-08-20', endDate: '2027-06-10' });
      expect(members[0].enrollment).toMatchObject({ id: expect.any(String), status: 'active' });
      expect(members[2].person).toMatchObject({ id: student('stu-jose'), sourcedId: 'stu-jose' });
    });

    it.each<[Caller, string, number]>([
      ['admin', 'cls-alg', 200],
      ['sisOperator', 'cls-art', 200],
      ['northAdmin', 'cls-bio', 200],
      ['southAdmin', 'cls-art', 200],
      ['southAdmin', 'cls-alg', 403],
      ['rivera', 'cls-bio', 403],
      ['rivera', 'cls-art', 403],
      ['teacherWithoutClasses', 'cls-alg', 403],
    ])('%s → %s: %s', async (caller, sourcedId, status) => {
      const response = await get(caller, `/classes/${cls(sourcedId)}/roster`).expect(status);
      if (status === 403) expect(response.body.code).toBe('ROSTER.ACCESS_DENIED');
    });

    it('keeps connections apart: the other connection’s class with the same sourcedId stays out of reach', async () => {
      await get('rivera', `/classes/${bay.id('classes', 'cls-alg')}/roster`).expect(403);
      const bayRoster = await get('admin', `/classes/${bay.id('classes', 'cls-alg')}/roster`).expect(200);
      expect(names(bayRoster.body.members.map((member: { person: Named }) => member.person))).toEqual(['Bea Bay']);
    });

    it('answers 404 for an inactive or unknown class', async () => {
      for (const id of [cls('cls-latin'), UNKNOWN_ID]) {
        const response = await get('admin', `/classes/${id}/roster`).expect(404);
        expect(response.body.code).toBe('ROSTER.CLASS_NOT_FOUND');
      }
    });
  });

  describe('student records', () => {
    it('shows a teacher the enrollments and guardians of their student, without demographics', async () => {
      const response = await get('rivera', `/students/${student('stu-jose')}`).expect(200);
      expect(response.body).toMatchObject({ id: student('stu-jose'), givenName: 'José', familyName: 'Núñez' });
      expect(response.body.enrollments).toEqual([
        {
          enrollment: expect.objectContaining({ status: 'active', dateLastModified: '2026-09-01T12:00:00.000Z' }),
          role: 'student',
          primary: false,
          beginDate: '2026-08-20',
          endDate: null,
          class: {
            id: cls('cls-alg'),
            sourcedId: 'cls-alg',
            title: 'Algebra I',
            classCode: 'ALG1-2',
            school: { id: district.id('orgs', 'sch-north'), sourcedId: 'sch-north', name: 'North High' },
          },
        },
      ]);
      expect(
        response.body.guardians.map((guardian: Named & { role: string }) => [guardian.givenName, guardian.role]),
      ).toEqual([
        ['María', 'guardian'],
        ['Pedro', 'parent'],
      ]);
      expect(response.body.guardians[0]).toMatchObject({ id: district.id('people', 'grd-maria'), phone: '555-0100' });
      expect(response.body).not.toHaveProperty('demographics');
    });

    it.each<[Caller, boolean]>([
      ['admin', true],
      ['northAdmin', true],
      ['sisOperator', false],
      ['complianceOfficer', false],
      ['rivera', false],
    ])('demographics for %s: %s', async (caller, visible) => {
      const response = await get(caller, `/students/${student('stu-jose')}`).expect(200);
      if (visible) {
        expect(response.body.demographics).toMatchObject({
          sourcedId: 'stu-jose',
          birthDate: '2010-05-04',
          sex: 'male',
          hispanicOrLatino: true,
        });
      } else {
        expect(response.body).not.toHaveProperty('demographics');
      }
    });

    it('gives demographics as null when the SIS sent none', async () => {
      const response = await get('admin', `/students/${student('stu-ana')}`).expect(200);
      expect(response.body.demographics).toBeNull();
    });

    it.each<[Caller, string, number]>([
      ['southAdmin', 'stu-jose', 403],
      ['teacherWithoutClasses', 'stu-jose', 403],
      ['southAdmin', 'stu-sam', 200],
      ['northAdmin', 'stu-sam', 200],
      ['rivera', 'stu-sam', 200],
      ['northAdmin', 'stu-dana', 200],
      ['rivera', 'stu-dana', 403],
      ['rivera', 'stu-ana', 403],
      ['rivera', 'stu-zoe', 403],
    ])('%s → %s: %s', async (caller, sourcedId, status) => {
      const response = await get(caller, `/students/${student(sourcedId)}`).expect(status);
      if (status === 403) expect(response.body.code).toBe('ROSTER.ACCESS_DENIED');
    });

    it('answers 404 for an inactive student, a non-student and an unknown id', async () => {
      for (const id of [student('stu-carl'), district.id('people', 'grd-maria'), student('tch-rivera'), UNKNOWN_ID]) {
        const response = await get('admin', `/students/${id}`).expect(404);
        expect(response.body.code).toBe('ROSTER.STUDENT_NOT_FOUND');
      }
    });
  });

  describe('search', () => {
    it.each([
      ['jose nunez', 'José Núñez'],
      ['José Núñez', 'José Núñez'],
      ['NUNEZ jose', 'José Núñez'],
      ['jsoe nunez', 'José Núñez'],
      ['Nunes', 'Josefina Nunes'],
      ['zoe odegaard', 'Zoë Ødegaard'],
      ['lopes', 'Ana López'],
      ['jnunez', 'José Núñez'],
      ['10042', 'José Núñez'],
    ])('%s → %s first', async (search, expected) => {
      const response = await get('admin', `/students?search=${encodeURIComponent(search)}`).expect(200);
      expect(names(response.body.items)[0]).toBe(expected);
    });

    it('finds accented names from unaccented misspellings', async () => {
      const response = await get('admin', '/students?search=Nunes').expect(200);
      expect(names(response.body.items)).toEqual(expect.arrayContaining(['José Núñez', 'Josefina Nunes']));
    });

    it('leaves out guardians, teachers and what the caller may not see', async () => {
      expect((await get('admin', '/students?search=maria').expect(200)).body.items).toEqual([]);
      expect((await get('admin', '/students?search=rivera').expect(200)).body.items).toEqual([]);
      expect((await get('admin', '/students?search=carl%20gone').expect(200)).body.items).toEqual([]);
      expect(names((await get('rivera', '/students?search=nunez').expect(200)).body.items)).toEqual(['José Núñez']);
      expect((await get('rivera', '/students?search=ana').expect(200)).body.items).toEqual([]);
    });

    it('treats a search of punctuation alone as no search', async () => {
      const response = await get('admin', '/students?search=%20...%20').expect(200);
      const unfiltered = await get('admin', '/students').expect(200);
      expect(response.body.items).toEqual(unfiltered.body.items);
    });
  });

  describe('pagination', () => {
    it('walks every student with small pages, without duplicates, in list order', async () => {
      const whole = await get('admin', '/students?limit=200').expect(200);
      const walked = await walk<Named>('admin', '/students?limit=2');
      expect(walked.map((item) => item.id)).toEqual(whole.body.items.map((item: Named) => item.id));
      expect(new Set(walked.map((item) => item.id)).size).toBe(ALL_STUDENTS.length);
      expect(sortedNames(walked)).toEqual([...ALL_STUDENTS].sort());
    });

    it('walks search results, ties included, in the order of one big page', async () => {
      for (const search of ['nunez', 'lee', 'a']) {
        const whole = await get('admin', `/students?search=${search}&limit=200`).expect(200);
        expect(whole.body.nextCursor).toBeNull();
        const walked = await walk<Named>('admin', `/students?search=${search}&limit=1`);
        expect(walked.map((item) => item.id)).toEqual(whole.body.items.map((item: Named) => item.id));
        expect(new Set(walked.map((item) => item.id)).size).toBe(walked.length);
      }
      expect(names((await get('admin', '/students?search=lee').expect(200)).body.items)).toEqual([
        'Kim Lee',
        'Kim Lee',
      ]);
    });

    it('walks classes and schools', async () => {
      expect(titles(await walk<Named & { title: string }>('admin', '/classes?limit=1'))).toEqual([
        'Algebra I',
        'Algebra I (Bay)',
        'Art',
        'Biology',
      ]);
      const schools = await walk<{ id: string; name: string }>('admin', '/schools?limit=2');
      expect(schools.map((school) => school.name)).toEqual(['Bay School', 'North High', 'South Middle']);
    });

    it('gives a first page of at most 50 with a cursor only when there is more', async () => {
      const response = await get('admin', '/students').expect(200);
      expect(response.body.items).toHaveLength(ALL_STUDENTS.length);
      expect(response.body.nextCursor).toBeNull();
    });
  });

  describe('bad requests', () => {
    it.each([
      '/students?limit=0',
      '/students?limit=201',
      '/classes?limit=abc',
      '/schools?limit=1.5',
      '/classes?limit=-3',
    ])('%s → 400 REQUEST.VALIDATION_FAILED', async (path) => {
      const response = await get('admin', path).expect(400);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.body.code).toBe('REQUEST.VALIDATION_FAILED');
    });

    it('refuses malformed cursors and cursors of another listing with ROSTER.INVALID_CURSOR', async () => {
      const classesCursor = (await get('admin', '/classes?limit=1').expect(200)).body.nextCursor as string;
      const searchCursor = (await get('admin', '/students?search=nunez&limit=1').expect(200)).body.nextCursor as string;
      const forged = Buffer.from(JSON.stringify(['students', 'x', 'y', "' OR 1=1 --"])).toString('base64url');
      for (const path of [
        '/students?cursor=not-a-cursor',
        '/students?cursor=%25%25%25',
        `/students?cursor=${forged}`,
        `/students?cursor=${classesCursor}`,
        `/students?search=lee&cursor=${searchCursor}`,
        `/students?cursor=${searchCursor}`,
        `/schools?cursor=${classesCursor}`,
      ]) {
        const response = await get('admin', path);
        expect({ path, status: response.status, code: response.body.code }).toEqual({
          path,
          status: 400,
          code: 'ROSTER.INVALID_CURSOR',
        });
      }
    });

    it.each([
      '/students/not-a-uuid',
      '/classes/1234/roster',
      `/classes?schoolId=sch-north`,
      `/students?schoolId=x`,
      '/students?unknown=1',
    ])('%s → 400', async (path) => {
      const response = await get('admin', path).expect(400);
      expect(response.body.code).toBe('REQUEST.VALIDATION_FAILED');
    });

    it.each([
      '/schools',
      '/classes',
      `/classes/${UNKNOWN_ID}/roster`,
      '/students',
      `/students/${UNKNOWN_ID}`,
      '/staff',
      `/staff/${UNKNOWN_ID}`,
    ])('unauthenticated %s → 401', async (path) => {
      const response = await request(url).get(`/api/v1${path}`);
      expect(response.status).toBe(401);
    });
  });

  // Last: these seed more connections, which the district-wide lists above do not expect.
  describe('school scope across SIS connections', () => {
    let lake: SeededRoster;

    beforeAll(async () => {
      // Another connection whose school reuses the sourcedId South Middle has in the first one.
      lake = await seedRoster(testApp.databaseUrl, {
        orgs: [{ sourcedId: 'sch-south', name: 'Lake South' }],
        classes: [{ sourcedId: 'cls-swim', title: 'Swimming', school: 'sch-south' }],
        people: [{ sourcedId: 'stu-lia', givenName: 'Lia', familyName: 'Lake', role: 'student', orgs: ['sch-south'] }],
        enrollments: [{ class: 'cls-swim', user: 'stu-lia', role: 'student' }],
      });
    });

    it('a school admin scoped by a sourcedId when it was unique sees only that school, not its namesake', async () => {
      const students = await walk<Named>('southAdmin', '/students?limit=200');
      expect(sortedNames(students)).toEqual(['Josefina Nunes', 'Sam Cross', 'Zoë Ødegaard'].sort());
      expect(titles(await walk<Named & { title: string }>('southAdmin', '/classes'))).toEqual(['Art']);
      const schools = await walk<{ id: string; name: string }>('southAdmin', '/schools');
      expect(schools.map((school) => school.name)).toEqual(['South Middle']);
      const lia = await get('southAdmin', `/students/${lake.id('people', 'stu-lia')}`).expect(403);
      expect(lia.body.code).toBe('ROSTER.ACCESS_DENIED');
      await get('southAdmin', `/classes/${lake.id('classes', 'cls-swim')}/roster`).expect(403);
    });

    it('stores a scope as the schools’ local ids', async () => {
      const me = await get('southAdmin', '/auth/me').expect(200);
      expect(me.body.schoolIds).toEqual([district.id('orgs', 'sch-south')]);
    });

    it('refuses a sourcedId that names schools of two connections, with IDENTITY.SCHOOL_SCOPE_AMBIGUOUS', async () => {
      const response = await request(url)
        .post('/api/v1/users')
        .set(bearer(tokens.admin))
        .send({
          email: 'ambiguous.admin@district.test',
          displayName: 'A',
          password: PASSWORD,
          roles: ['school_admin'],
          schoolIds: ['sch-south'],
        });
      expect(response.status).toBe(422);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.body.code).toBe('IDENTITY.SCHOOL_SCOPE_AMBIGUOUS');
      const users = await request(url).get('/api/v1/users?limit=100').set(bearer(tokens.admin)).expect(200);
      expect(users.body.items.map((user: { email: string }) => user.email)).not.toContain(
        'ambiguous.admin@district.test',
      );
    });

    it('resolves connection + sourcedId to that connection’s school only', async () => {
      const token = await createUser('lake.admin@district.test', ['school_admin'], [`${lake.connectionId}:sch-south`]);
      const me = await request(url).get('/api/v1/auth/me').set(bearer(token)).expect(200);
      expect(me.body.schoolIds).toEqual([lake.id('orgs', 'sch-south')]);
      const students = await request(url).get('/api/v1/students').set(bearer(token)).expect(200);
      expect(names(students.body.items)).toEqual(['Lia Lake']);
    });
  });

  describe('enrollment and term dates', () => {
    let hill: SeededRoster;
    let hillTeacher: string;
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

    beforeAll(async () => {
      hill = await seedRoster(testApp.databaseUrl, {
        orgs: [{ sourcedId: 'sch-hill', name: 'Hill School' }],
        sessions: [
          { sourcedId: 'term-old', title: 'Fall two years ago', startDate: day(-900), endDate: day(-730) },
          { sourcedId: 'term-now', title: 'This term', startDate: day(-60), endDate: day(60) },
        ],
        classes: [
          { sourcedId: 'cls-hist', title: 'History', school: 'sch-hill', terms: ['term-now'] },
          { sourcedId: 'cls-geo', title: 'Geography', school: 'sch-hill', terms: ['term-old'] },
          { sourcedId: 'cls-chem', title: 'Chemistry', school: 'sch-hill' },
        ],
        people: [
          {
            sourcedId: 'tch-hill',
            givenName: 'Hal',
            familyName: 'Hill',
            role: 'teacher',
            email: 'mr.hill@district.test',
          },
          { sourcedId: 'stu-current', givenName: 'Cora', familyName: 'Current', role: 'student' },
          { sourcedId: 'stu-graded', givenName: 'Gus', familyName: 'Graded', role: 'student' },
          { sourcedId: 'stu-gone', givenName: 'Gina', familyName: 'Gone', role: 'student' },
          { sourcedId: 'stu-future', givenName: 'Finn', familyName: 'Future', role: 'student' },
          { sourcedId: 'stu-old-term', givenName: 'Otto', familyName: 'Oldterm', role: 'student' },
          { sourcedId: 'stu-chem', givenName: 'Chloe', familyName: 'Chem', role: 'student' },
        ],
        enrollments: [
          { class: 'cls-hist', user: 'tch-hill', role: 'teacher' },
          { class: 'cls-hist', user: 'stu-current', role: 'student', beginDate: day(-60) },
          // Ended last week: within the grace period for end-of-term grading.
          { class: 'cls-hist', user: 'stu-graded', role: 'student', beginDate: day(-60), endDate: day(-7) },
          // Ended two years ago.
          { class: 'cls-hist', user: 'stu-gone', role: 'student', beginDate: day(-900), endDate: day(-730) },
          // Starts next month.
          { class: 'cls-hist', user: 'stu-future', role: 'student', beginDate: day(30) },
          // No end date of its own, but the class's only term ended two years ago.
          { class: 'cls-geo', user: 'tch-hill', role: 'teacher' },
          { class: 'cls-geo', user: 'stu-old-term', role: 'student' },
          // The teacher's own enrollment ended two years ago.
          { class: 'cls-chem', user: 'tch-hill', role: 'teacher', endDate: day(-730) },
          { class: 'cls-chem', user: 'stu-chem', role: 'student' },
        ],
      });
      hillTeacher = await createUser('mr.hill@district.test', ['teacher']);
    });

    const asHill = (path: string) => request(url).get(`/api/v1${path}`).set(bearer(hillTeacher));

    it('lists only the students of current enrollments, a recently ended one within the grace period', async () => {
      const students = await asHill('/students?limit=200').expect(200);
      expect(sortedNames(students.body.items)).toEqual(['Cora Current', 'Gus Graded']);
      const search = await asHill('/students?search=gina%20gone').expect(200);
      expect(search.body.items).toEqual([]);
    });

    it.each([
      ['stu-current', 200],
      ['stu-graded', 200],
      ['stu-gone', 403],
      ['stu-future', 403],
      ['stu-old-term', 403],
      ['stu-chem', 403],
    ])('the teacher reading %s → %s', async (sourcedId, status) => {
      const response = await asHill(`/students/${hill.id('people', sourcedId)}`).expect(status);
      if (status === 403) expect(response.body.code).toBe('ROSTER.ACCESS_DENIED');
    });

    it('lists only classes the teacher currently teaches, and refuses the rosters of the others', async () => {
      expect(titles((await asHill('/classes').expect(200)).body.items)).toEqual(['History']);
      await asHill(`/classes/${hill.id('classes', 'cls-geo')}/roster`).expect(403);
      await asHill(`/classes/${hill.id('classes', 'cls-chem')}/roster`).expect(403);
      const roster = await asHill(`/classes/${hill.id('classes', 'cls-hist')}/roster`).expect(200);
      const members = roster.body.members as { person: Named }[];
      expect(members.map((member) => `${member.person.givenName} ${member.person.familyName}`).sort()).toEqual(
        ['Cora Current', 'Gus Graded', 'Hal Hill'].sort(),
      );
    });
  });
});
