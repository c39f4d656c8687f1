import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { createUserToken, walkPages } from './roster-client.js';
import { seedRoster, type RosterSeed, type SeededRoster } from './seed-roster.js';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

type Caller = 'admin' | 'springfieldAdmin' | 'shelbyvilleAdmin' | 'tess' | 'teacherElsewhere';

interface Person {
  id: string;
  givenName: string;
  familyName: string;
  source: { connectionId: string; connectionName: string | null };
}

/** One district as a SIS sends it: imported twice below, under two connections. */
const DISTRICT: RosterSeed = {
  orgs: [
    { sourcedId: 'dist', name: 'Springfield District', type: 'district' },
    { sourcedId: 'sch-1', name: 'Springfield High' },
  ],
  classes: [{ sourcedId: 'cls-1', title: 'Chemistry', school: 'sch-1' }],
  people: [
    {
      sourcedId: 'tch-1',
      givenName: 'Tess',
      familyName: 'Teach',
      role: 'teacher',
      email: 'Tess.Teach@district.test',
      orgs: ['sch-1'],
    },
    // Listed in no org: in the school's staff through the class they teach there.
    { sourcedId: 'tch-visit', givenName: 'Vic', familyName: 'Visitor', role: 'teacher', orgs: [] },
    { sourcedId: 'aide-1', givenName: 'Al', familyName: 'Aide', role: 'aide', orgs: ['sch-1'] },
    { sourcedId: 'adm-1', givenName: 'Pat', familyName: 'Principal', role: 'administrator', orgs: ['sch-1'] },
    { sourcedId: 'stu-1', givenName: 'Ann', familyName: 'Able', role: 'student', orgs: ['sch-1'] },
    { sourcedId: 'stu-2', givenName: 'Ben', familyName: 'Best', role: 'student', orgs: ['sch-1'] },
    // A student who also works as an aide: a student record, never listed as staff.
    {
      sourcedId: 'stu-aide',
      givenName: 'Cy',
      familyName: 'Helper',
      role: 'student',
      secondaryRoles: ['aide'],
      orgs: ['sch-1'],
    },
    { sourcedId: 'grd-1', givenName: 'Gail', familyName: 'Guardian', role: 'guardian', agents: ['stu-1'] },
    {
      sourcedId: 'tch-gone',
      givenName: 'Gus',
      familyName: 'Gone',
      role: 'teacher',
      orgs: ['sch-1'],
      status: 'inactive',
    },
  ],
  enrollments: [
    { class: 'cls-1', user: 'tch-1', role: 'teacher', primary: true },
    { class: 'cls-1', user: 'tch-visit', role: 'teacher' },
    { class: 'cls-1', user: 'stu-1', role: 'student' },
    { class: 'cls-1', user: 'stu-2', role: 'student' },
  ],
};

describe('reads that tell connections apart, and the staff list', () => {
  let testApp: TestApp;
  let url: string;
  /** The district through its REST connection, with a second school only this connection has. */
  let rest: SeededRoster;
  /** The same district again through a CSV feed. */
  let csv: SeededRoster;
  const tokens = {} as Record<Caller, string>;

  const get = (caller: Caller, path: string) => request(url).get(`/api/v1${path}`).set(bearer(tokens[caller]));
  const people = (items: Person[]) =>
    items.map((person) => `${person.givenName} ${person.familyName} (${person.source.connectionName})`).sort();

  const createUser = (email: string, roles: string[], schoolIds: string[] = []): Promise<string> =>
    createUserToken(url, tokens.admin, email, roles, schoolIds);

  const walk = <T>(caller: Caller, path: string): Promise<T[]> => walkPages<T>((page) => get(caller, page), path);

  beforeAll(async () => {
    testApp = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    url = testApp.url;
    rest = await seedRoster(testApp.databaseUrl, {
      ...DISTRICT,
      connectionName: 'Springfield SIS',
      orgs: [...DISTRICT.orgs!, { sourcedId: 'sch-2', name: 'Shelbyville Middle' }],
      classes: [...DISTRICT.classes!, { sourcedId: 'cls-2', title: 'Band', school: 'sch-2' }],
      people: [
        ...DISTRICT.people!,
        { sourcedId: 'tch-2', givenName: 'Sam', familyName: 'Second', role: 'teacher', orgs: ['sch-2'] },
        { sourcedId: 'prc-2', givenName: 'Paula', familyName: 'Proctor', role: 'proctor', orgs: ['sch-2'] },
        { sourcedId: 'stu-3', givenName: 'Dee', familyName: 'Drum', role: 'student', orgs: ['sch-2'] },
      ],
      enrollments: [
        ...DISTRICT.enrollments!,
        { class: 'cls-2', user: 'tch-2', role: 'teacher' },
        { class: 'cls-2', user: 'stu-3', role: 'student' },
      ],
    });
    csv = await seedRoster(testApp.databaseUrl, { ...DISTRICT, connectionName: 'Springfield CSV' });

    tokens.admin = (await login(url)).accessToken;
    tokens.springfieldAdmin = await createUser('sh.admin@district.test', ['school_admin'], [rest.id('orgs', 'sch-1')]);
    tokens.shelbyvilleAdmin = await createUser('sm.admin@district.test', ['school_admin'], [rest.id('orgs', 'sch-2')]);
    tokens.tess = await createUser('tess.teach@district.test', ['teacher']);
    tokens.teacherElsewhere = await createUser('nobody@district.test', ['teacher']);
  });

  afterAll(async () => {
    await testApp?.close();
  });

  describe('GET /students?connectionId=', () => {
    it('lists the students of one connection only', async () => {
      const fromRest = await get('admin', `/students?connectionId=${rest.connectionId}`).expect(200);
      expect(people(fromRest.body.items)).toEqual([
        'Ann Able (Springfield SIS)',
        'Ben Best (Springfield SIS)',
        'Cy Helper (Springfield SIS)',
        'Dee Drum (Springfield SIS)',
      ]);
      const fromCsv = await get('admin', `/students?connectionId=${csv.connectionId}`).expect(200);
      expect(fromCsv.body.items.map((item: Person) => item.id).sort()).toEqual(
        ['stu-1', 'stu-2', 'stu-aide'].map((sourcedId) => csv.id('people', sourcedId)).sort(),
      );
    });

    it('gives an empty page for an unknown connection, and 400 for a malformed id', async () => {
      const unknown = await get('admin', `/students?connectionId=${UNKNOWN_ID}`).expect(200);
      expect(unknown.body).toEqual({ items: [], nextCursor: null });
      const malformed = await get('admin', '/students?connectionId=not-a-uuid').expect(400);
      expect(malformed.body.code).toBe('REQUEST.VALIDATION_FAILED');
    });

    it('composes with the school filter, the search, the scope and the pagination', async () => {
      const restSchool = rest.id('orgs', 'sch-1');
      const sameConnection = await get('admin', `/students?schoolId=${restSchool}&connectionId=${rest.connectionId}`);
      expect(people(sameConnection.body.items)).toEqual([
        'Ann Able (Springfield SIS)',
        'Ben Best (Springfield SIS)',
        'Cy Helper (Springfield SIS)',
      ]);
      const otherConnection = await get('admin', `/students?schoolId=${restSchool}&connectionId=${csv.connectionId}`);
      expect(otherConnection.body.items).toEqual([]);

      const search = await get('admin', `/students?search=ann%20able&connectionId=${csv.connectionId}`).expect(200);
      expect(search.body.items.map((item: Person) => item.id)).toEqual([csv.id('people', 'stu-1')]);

      // A school admin of the REST connection's school sees nothing of the CSV feed's copy.
      const scoped = await get('springfieldAdmin', `/students?connectionId=${csv.connectionId}`).expect(200);
      expect(scoped.body.items).toEqual([]);

      const whole = await get('admin', `/students?connectionId=${rest.connectionId}&limit=200`).expect(200);
      const walked = await walk<Person>('admin', `/students?connectionId=${rest.connectionId}&limit=1`);
      expect(walked.map((item) => item.id)).toEqual(whole.body.items.map((item: Person) => item.id));
      expect(walked).toHaveLength(4);
    });
  });

  describe('the connection of each record', () => {
    it('names the connection of students, classes, schools and class rosters', async () => {
      const restSource = { connectionId: rest.connectionId, connectionName: 'Springfield SIS' };
      const csvSource = { connectionId: csv.connectionId, connectionName: 'Springfield CSV' };

      const students = await get('admin', '/students?search=ann%20able').expect(200);
      expect(students.body.items.map((item: Person) => item.source)).toEqual(
        expect.arrayContaining([restSource, csvSource]),
      );
      const detail = await get('admin', `/students/${csv.id('people', 'stu-1')}`).expect(200);
      expect(detail.body.source).toEqual(csvSource);

      const classes = await get('admin', '/classes').expect(200);
      const chemistry = classes.body.items.filter((item: { title: string }) => item.title === 'Chemistry');
      expect(chemistry.map((item: Person) => item.source)).toEqual(expect.arrayContaining([restSource, csvSource]));
      const roster = await get('admin', `/classes/${rest.id('classes', 'cls-1')}/roster`).expect(200);
      expect(roster.body.class.source).toEqual(restSource);

      const schools = await get('admin', '/schools').expect(200);
      const high = schools.body.items.filter((item: { name: string }) => item.name === 'Springfield High');
      expect(high.map((item: Person) => item.source)).toEqual(expect.arrayContaining([restSource, csvSource]));
    });

    it('gives a null name when the connection row is gone, never an error', async () => {
      const orphan = await seedRoster(testApp.databaseUrl, {
        people: [{ sourcedId: 'stu-orphan', givenName: 'Otto', familyName: 'Orphan', role: 'student' }],
      });
      const response = await get('admin', `/students?connectionId=${orphan.connectionId}`).expect(200);
      expect(response.body.items.map((item: Person) => item.source)).toEqual([
        { connectionId: orphan.connectionId, connectionName: null },
      ]);
    });
  });

  describe('GET /staff', () => {
    const ALL_STAFF = [
      'Al Aide (Springfield CSV)',
      'Al Aide (Springfield SIS)',
      'Pat Principal (Springfield CSV)',
      'Pat Principal (Springfield SIS)',
      'Paula Proctor (Springfield SIS)',
      'Sam Second (Springfield SIS)',
      'Tess Teach (Springfield CSV)',
      'Tess Teach (Springfield SIS)',
      'Vic Visitor (Springfield CSV)',
      'Vic Visitor (Springfield SIS)',
    ];

    it('lists active people with a staff role: no students, guardians or inactive people', async () => {
      const response = await get('admin', '/staff').expect(200);
      expect(people(response.body.items)).toEqual(ALL_STAFF);
      expect(response.body.nextCursor).toBeNull();
      const tess = response.body.items.find((item: Person) => item.id === rest.id('people', 'tch-1'));
      expect(tess).toEqual({
        id: rest.id('people', 'tch-1'),
        sourcedId: 'tch-1',
        status: 'active',
        dateLastModified: '2026-09-01T12:00:00.000Z',
        givenName: 'Tess',
        familyName: 'Teach',
        middleName: null,
        preferredFirstName: null,
        preferredLastName: null,
        identifier: null,
        username: null,
        email: 'Tess.Teach@district.test',
        role: 'teacher',
        roles: ['teacher'],
        schools: [{ id: rest.id('orgs', 'sch-1'), sourcedId: 'sch-1', name: 'Springfield High' }],
        source: { connectionId: rest.connectionId, connectionName: 'Springfield SIS' },
      });
    });

    it('filters by role, school, connection and search, and walks its pages', async () => {
      expect(people((await get('admin', '/staff?role=aide').expect(200)).body.items)).toEqual([
        'Al Aide (Springfield CSV)',
        'Al Aide (Springfield SIS)',
      ]);
      expect(people((await get('admin', '/staff?role=proctor').expect(200)).body.items)).toEqual([
        'Paula Proctor (Springfield SIS)',
      ]);
      expect(
        people((await get('admin', `/staff?schoolId=${rest.id('orgs', 'sch-2')}`).expect(200)).body.items),
      ).toEqual(['Paula Proctor (Springfield SIS)', 'Sam Second (Springfield SIS)']);
      expect(
        people((await get('admin', `/staff?schoolId=${csv.id('orgs', 'sch-1')}&role=teacher`).expect(200)).body.items),
      ).toEqual(['Tess Teach (Springfield CSV)', 'Vic Visitor (Springfield CSV)']);
      expect(people((await get('admin', `/staff?connectionId=${csv.connectionId}`).expect(200)).body.items)).toEqual(
        ALL_STAFF.filter((name) => name.endsWith('(Springfield CSV)')),
      );
      expect((await get('admin', `/staff?connectionId=${UNKNOWN_ID}`).expect(200)).body.items).toEqual([]);
      expect(people((await get('admin', '/staff?search=tess%20teach').expect(200)).body.items)).toEqual([
        'Tess Teach (Springfield CSV)',
        'Tess Teach (Springfield SIS)',
      ]);
      expect((await get('admin', '/staff?search=ann%20able').expect(200)).body.items).toEqual([]);

      const whole = await get('admin', '/staff?limit=200').expect(200);
      const walked = await walk<Person>('admin', '/staff?limit=3');
      expect(walked.map((item) => item.id)).toEqual(whole.body.items.map((item: Person) => item.id));
      const searchWhole = await get('admin', '/staff?search=a&limit=200').expect(200);
      const searchWalked = await walk<Person>('admin', '/staff?search=a&limit=1');
      expect(searchWalked.map((item) => item.id)).toEqual(searchWhole.body.items.map((item: Person) => item.id));
    });

    it.each<[Caller, string[]]>([
      [
        'springfieldAdmin',
        [
          'Al Aide (Springfield SIS)',
          'Pat Principal (Springfield SIS)',
          'Tess Teach (Springfield SIS)',
          'Vic Visitor (Springfield SIS)',
        ],
      ],
      ['shelbyvilleAdmin', ['Paula Proctor (Springfield SIS)', 'Sam Second (Springfield SIS)']],
      // A teacher sees their own staff records only, in every connection that has them.
      ['tess', ['Tess Teach (Springfield CSV)', 'Tess Teach (Springfield SIS)']],
      ['teacherElsewhere', []],
    ])('scopes the list for %s', async (caller, expected) => {
      expect(people(await walk<Person>(caller, '/staff?limit=2'))).toEqual(expected);
    });

    it.each<[Caller, string, number]>([
      ['admin', 'tch-2', 200],
      ['springfieldAdmin', 'tch-visit', 200],
      ['springfieldAdmin', 'tch-2', 403],
      ['shelbyvilleAdmin', 'tch-1', 403],
      ['shelbyvilleAdmin', 'tch-2', 200],
      ['tess', 'tch-1', 200],
      ['tess', 'aide-1', 403],
      ['teacherElsewhere', 'tch-1', 403],
    ])('GET /staff/{id}: %s → %s: %s', async (caller, sourcedId, status) => {
      const response = await get(caller, `/staff/${rest.id('people', sourcedId)}`).expect(status);
      if (status === 403) expect(response.body.code).toBe('ROSTER.ACCESS_DENIED');
      else expect(response.body).toMatchObject({ id: rest.id('people', sourcedId), sourcedId });
    });

    it('answers 404 for a student (even one who is an aide), a guardian, an inactive person and an unknown id', async () => {
      for (const id of [
        rest.id('people', 'stu-1'),
        rest.id('people', 'stu-aide'),
        rest.id('people', 'grd-1'),
        rest.id('people', 'tch-gone'),
        UNKNOWN_ID,
      ]) {
        const response = await get('admin', `/staff/${id}`).expect(404);
        expect(response.body.code).toBe('ROSTER.PERSON_NOT_FOUND');
      }
    });

    it.each([
      '/staff?role=guardian',
      '/staff?role=student',
      '/staff?schoolId=x',
      '/staff?connectionId=1',
      '/staff/nope',
    ])('%s → 400', async (path) => {
      const response = await get('admin', path).expect(400);
      expect(response.body.code).toBe('REQUEST.VALIDATION_FAILED');
    });

    it.each(['/staff', `/staff/${UNKNOWN_ID}`])('unauthenticated %s → 401', async (path) => {
      await request(url).get(`/api/v1${path}`).expect(401);
    });
  });
});
