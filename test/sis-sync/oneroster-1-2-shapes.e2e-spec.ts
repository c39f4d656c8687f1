import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FakeOneRosterServer,
  type FakeOneRosterServerOptions,
  type OneRosterDataset,
  type OneRosterUser,
  type OneRosterUserRole,
} from '../fakes/oneroster/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { createOneRosterConnection, mirrorRows, mirrorSnapshot, sql, syncAndWait } from './sync-support.js';

/**
 * A district served in the field shapes the official 1EdTech OneRoster 1.2 rostering OpenAPI allows: extension
 * values (`ext:…`) in every extensible vocabulary, optional fields left out or null, GUIDRefs with href and type,
 * metadata, userIds, roles with userProfile, userProfiles with credentials, resources, string booleans, a course
 * without org, classes without classType, a OneRoster 1.0 `inactive` status. Fixtures written from the schemas.
 */
const STAMP = '2026-09-01T12:00:00.000Z';
const base = { status: 'active' as const, dateLastModified: STAMP };

function user(
  sourcedId: string,
  givenName: string,
  roles: Omit<OneRosterUserRole, 'beginDate' | 'endDate'>[],
  extra: Partial<OneRosterUser> = {},
): OneRosterUser {
  return {
    ...base,
    sourcedId,
    enabledUser: true,
    username: null,
    userIds: [],
    givenName,
    familyName: 'Shape',
    middleName: null,
    preferredFirstName: null,
    preferredMiddleName: null,
    preferredLastName: null,
    pronouns: null,
    identifier: null,
    email: null,
    sms: null,
    phone: null,
    userMasterIdentifier: null,
    roles: roles.map((role) => ({ beginDate: null, endDate: null, ...role })),
    primaryOrgSourcedId: null,
    agentSourcedIds: [],
    grades: [],
    legacySourcedId: null,
    ...extra,
  };
}

function shapesDistrict(): OneRosterDataset {
  const klass = (sourcedId: string, fields: Partial<OneRosterDataset['classes'][number]>) => ({
    ...base,
    sourcedId,
    title: `Class ${sourcedId}`,
    classCode: null,
    classType: null,
    location: null,
    grades: [],
    subjects: [],
    subjectCodes: [],
    periods: [],
    courseSourcedId: 'co-1',
    schoolSourcedId: 'sch-1',
    termSourcedIds: ['t-1'],
    ...fields,
  });
  const enrollment = (sourcedId: string, classSourcedId: string, userSourcedId: string, role: string) => ({
    ...base,
    sourcedId,
    classSourcedId,
    schoolSourcedId: classSourcedId === 'k-2' ? 'sch-2' : 'sch-1',
    userSourcedId,
    role: role as 'student',
    primary: sourcedId === 'e-t1',
    beginDate: null,
    endDate: null,
  });
  return {
    orgs: [
      {
        ...base,
        sourcedId: 'd-1',
        name: 'Shape District',
        type: 'district',
        identifier: 'NCES-1',
        parentSourcedId: null,
      },
      { ...base, sourcedId: 'sch-1', name: 'North School', type: 'school', identifier: null, parentSourcedId: 'd-1' },
      {
        ...base,
        sourcedId: 'sch-2',
        name: 'East Campus',
        type: 'ext:campus',
        identifier: null,
        parentSourcedId: 'd-1',
      },
      {
        ...base,
        sourcedId: 'ann-1',
        name: 'Bus Annex',
        type: 'ext:annex',
        identifier: null,
        parentSourcedId: 'd-1',
        metadata: { 'district.code': 'A1', 'ext.flags': { shuttle: true } },
      },
    ],
    academicSessions: [
      {
        ...base,
        sourcedId: 'y-1',
        title: '2026-27',
        type: 'schoolYear',
        startDate: '2026-08-15',
        endDate: '2027-06-15',
        parentSourcedId: null,
        schoolYear: '2027',
        orgSourcedId: 'd-1',
      },
      {
        ...base,
        sourcedId: 't-1',
        title: 'Trimester 1',
        type: 'ext:trimester',
        startDate: '2026-08-15',
        endDate: '2026-11-30',
        parentSourcedId: 'y-1',
        schoolYear: '2027',
        orgSourcedId: null,
      },
      {
        ...base,
        sourcedId: 't-2',
        title: 'Quarter 1',
        type: 'ext:quarter',
        startDate: '2026-08-15',
        endDate: '2026-10-15',
        parentSourcedId: 'y-1',
        schoolYear: '2027',
        orgSourcedId: null,
      },
      {
        ...base,
        status: 'inactive',
        sourcedId: 't-old',
        title: 'Old term',
        type: 'term',
        startDate: '2025-08-15',
        endDate: '2025-12-15',
        parentSourcedId: null,
        schoolYear: '2026',
        orgSourcedId: null,
      },
    ],
    courses: [
      {
        ...base,
        sourcedId: 'co-1',
        title: 'Algebra',
        courseCode: 'ALG',
        grades: ['09'],
        subjects: ['Math'],
        subjectCodes: ['MA-1'],
        orgSourcedId: 'sch-1',
        schoolYearSourcedId: 'y-1',
        resourceSourcedIds: ['res-1'],
      },
      {
        ...base,
        sourcedId: 'co-2',
        title: 'Advisory',
        courseCode: 'ADV',
        grades: [],
        subjects: [],
        subjectCodes: [],
        orgSourcedId: null,
        schoolYearSourcedId: null,
      },
    ],
    classes: [
      klass('k-1', {
        classType: 'ext:advisory',
        classCode: 'ALG-1',
        periods: ['1', '3'],
        resourceSourcedIds: ['res-1'],
      }),
      klass('k-2', { courseSourcedId: 'co-2', schoolSourcedId: 'sch-2', termSourcedIds: ['t-2'] }),
      klass('k-3', { classType: 'ext:lab' }),
    ],
    users: [
      user(
        'u-t1',
        'Tess',
        [{ roleType: 'primary', role: 'teacher', orgSourcedId: 'sch-1', userProfile: 'urn:lms:t1' }],
        {
          username: 'tess',
          userIds: [{ type: 'LDAP', identifier: 'tess@district' }],
          userMasterIdentifier: 'M-1',
          preferredFirstName: 'T',
          pronouns: 'she/her',
          primaryOrgSourcedId: 'sch-1',
          metadata: { 'district.staffId': 'S-9' },
          userProfiles: [
            {
              profileId: 'urn:lms:t1',
              profileType: 'LMS',
              vendorId: 'lms-vendor',
              applicationId: 'default',
              description: 'LMS account',
              credentials: [{ type: 'password', username: 'tess', password: 'not-kept' }],
            },
          ],
          resourceSourcedIds: ['res-1'],
        },
      ),
      user('u-t2', 'Cody', [{ roleType: 'primary', role: 'ext:coTeacher', orgSourcedId: 'sch-1' }]),
      user('u-c1', 'Cole', [{ roleType: 'primary', role: 'ext:coach', orgSourcedId: 'sch-2' }]),
      user('u-c2', 'Cara', [
        { roleType: 'primary', role: 'ext:coach', orgSourcedId: 'sch-2' },
        { roleType: 'secondary', role: 'aide', orgSourcedId: 'sch-1' },
      ]),
      user('u-s1', 'Sam', [{ roleType: 'primary', role: 'student', orgSourcedId: 'sch-1' }], {
        grades: ['09'],
        agentSourcedIds: ['u-g1', 'u-g2'],
      }),
      user('u-s2', 'Sia', [{ roleType: 'primary', role: 'student', orgSourcedId: 'sch-2' }], { grades: ['09'] }),
      user('u-g1', 'Gail', [{ roleType: 'primary', role: 'guardian', orgSourcedId: 'sch-1' }], {
        agentSourcedIds: ['u-s1'],
      }),
      user('u-g2', 'Gus', [{ roleType: 'primary', role: 'ext:grandparent', orgSourcedId: 'sch-1' }], {
        agentSourcedIds: ['u-s1'],
      }),
    ],
    enrollments: [
      enrollment('e-t1', 'k-1', 'u-t1', 'teacher'),
      enrollment('e-t2', 'k-1', 'u-t2', 'ext:coTeacher'),
      enrollment('e-s1', 'k-1', 'u-s1', 'student'),
      enrollment('e-c1', 'k-2', 'u-c1', 'ext:coach'),
      enrollment('e-s2', 'k-2', 'u-s2', 'student'),
      enrollment('e-t3', 'k-3', 'u-t1', 'teacher'),
    ],
    demographics: [
      {
        ...base,
        sourcedId: 'u-s1',
        birthDate: '2011-04-02',
        sex: 'ext:nonBinary',
        americanIndianOrAlaskaNative: null,
        asian: null,
        blackOrAfricanAmerican: null,
        nativeHawaiianOrOtherPacificIslander: null,
        white: true,
        demographicRaceTwoOrMoreRaces: null,
        hispanicOrLatinoEthnicity: false,
        countryOfBirthCode: null,
        stateOfBirthAbbreviation: null,
        cityOfBirth: null,
        publicSchoolResidenceStatus: null,
      },
    ],
  };
}

const MAPPINGS = {
  orgType: { 'ext:campus': 'school' },
  sessionType: { 'ext:trimester': 'term' },
  classType: { 'ext:advisory': 'homeroom' },
  role: { 'ext:coTeacher': 'teacher', 'ext:grandparent': 'relative' },
  enrollmentRole: { 'ext:coTeacher': 'teacher' },
};

interface IssueView {
  entity: string;
  sourcedId: string | null;
  field: string | null;
  severity: string;
  message: string;
}

describe('OneRoster 1.2 field shapes (official OpenAPI) through a sync', () => {
  let app: TestApp;
  let token: string;
  const servers: FakeOneRosterServer[] = [];

  beforeAll(async () => {
    app = await bootTestApp();
    token = (await login(app.url)).accessToken;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await app?.close();
  });

  async function serve(options: Partial<FakeOneRosterServerOptions>): Promise<FakeOneRosterServer> {
    const server = new FakeOneRosterServer({
      dataset: shapesDistrict(),
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: 'fake-secret' },
      versions: ['1.2'],
      booleans: 'strings',
      ...options,
    });
    await server.start();
    servers.push(server);
    return server;
  }

  async function connect(server: FakeOneRosterServer, fields: Record<string, unknown> = {}): Promise<string> {
    return createOneRosterConnection(app.url, token, {
      name: `shapes ${Math.random().toString(36).slice(2)}`,
      baseUrl: server.baseUrlFor('1.2'),
      auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'fake-secret' },
      pageSize: 3,
      extensionMappings: MAPPINGS,
      ...fields,
    });
  }

  async function issues(runId: string): Promise<IssueView[]> {
    const response = await request(app.url).get(`/api/v1/sis/runs/${runId}/issues`).set(bearer(token));
    expect(response.status).toBe(200);
    const body = response.body as { items?: IssueView[] } | IssueView[];
    return Array.isArray(body) ? body : (body.items ?? []);
  }

  it('mirrors every shape, maps configured extensions, and warns once per unmapped extension value', async () => {
    const server = await serve({ emptyValues: 'null' });
    const connectionId = await connect(server);
    const run = await syncAndWait(app.url, token, connectionId);
    // Warnings only: the run is a plain success.
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    expect(run.counts).toMatchObject({
      orgs: { created: 4 },
      academicSessions: { created: 3 },
      courses: { created: 2 },
      classes: { created: 3 },
      people: { created: 8 },
      demographics: { created: 1 },
      enrollments: { created: 6 },
    });

    // One warning per unmapped extension value (with its count) and one for the inactive status; no errors.
    const warnings = (await issues(run.id)).map(({ entity, field, severity, message }) => ({
      entity,
      field,
      severity,
      value: /"(ext:[^"]+)"/.exec(message)?.[1] ?? /"(inactive)"/.exec(message)?.[1],
      count: Number(/^(\d+)/.exec(message)?.[1]),
    }));
    expect(warnings.sort((a, b) => `${a.entity}${a.value}`.localeCompare(`${b.entity}${b.value}`))).toEqual([
      { entity: 'academicSessions', field: 'type', severity: 'warning', value: 'ext:quarter', count: 1 },
      { entity: 'academicSessions', field: 'status', severity: 'warning', value: 'inactive', count: 1 },
      { entity: 'classes', field: 'classType', severity: 'warning', value: 'ext:lab', count: 1 },
      { entity: 'enrollments', field: 'role', severity: 'warning', value: 'ext:coach', count: 1 },
      { entity: 'orgs', field: 'type', severity: 'warning', value: 'ext:annex', count: 1 },
      { entity: 'people', field: 'roles.role', severity: 'warning', value: 'ext:coach', count: 2 },
    ]);

    // The given extension value is stored beside the meaning the product uses.
    const orgs = await mirrorRows(app.databaseUrl, 'roster_orgs', connectionId);
    expect(orgs.map((row) => [row['sourced_id'], row['type'], row['extension_values']])).toEqual([
      ['ann-1', 'ext:annex', { type: 'ext:annex' }],
      ['d-1', 'district', {}],
      ['sch-1', 'school', {}],
      ['sch-2', 'school', { type: 'ext:campus' }],
    ]);
    expect(orgs.find((row) => row['sourced_id'] === 'ann-1')?.['metadata']).toEqual({
      'district.code': 'A1',
      'ext.flags': { shuttle: true },
    });
    const sessions = await mirrorRows(app.databaseUrl, 'roster_academic_sessions', connectionId);
    expect(sessions.map((row) => [row['sourced_id'], row['type'], row['extension_values']])).toEqual([
      ['t-1', 'term', { type: 'ext:trimester' }],
      ['t-2', 'ext:quarter', { type: 'ext:quarter' }],
      ['y-1', 'schoolYear', {}],
    ]);
    const courses = await mirrorRows(app.databaseUrl, 'roster_courses', connectionId);
    expect(courses.map((row) => [row['sourced_id'], row['org_sourced_id']])).toEqual([
      ['co-1', 'sch-1'],
      ['co-2', null],
    ]);
    const classes = await mirrorRows(app.databaseUrl, 'roster_classes', connectionId);
    expect(classes.map((row) => [row['sourced_id'], row['class_type'], row['extension_values']])).toEqual([
      ['k-1', 'homeroom', { classType: 'ext:advisory' }],
      ['k-2', null, {}],
      ['k-3', 'ext:lab', { classType: 'ext:lab' }],
    ]);
    const people = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    const personOf = (id: string) => people.find((row) => row['sourced_id'] === id)!;
    expect(personOf('u-t2')).toMatchObject({
      primary_role: 'teacher',
      roles: [{ role: 'teacher', sourceRole: 'ext:coTeacher', roleType: 'primary', orgSourcedId: 'sch-1' }],
    });
    expect(personOf('u-c1')).toMatchObject({ primary_role: 'ext:coach' });
    expect(personOf('u-g2')).toMatchObject({
      primary_role: 'relative',
      roles: [{ role: 'relative', sourceRole: 'ext:grandparent' }],
    });
    expect(personOf('u-t1')).toMatchObject({
      username: 'tess',
      pronouns: 'she/her',
      primary_org_sourced_id: 'sch-1',
      user_ids: [{ type: 'LDAP', identifier: 'tess@district' }],
      metadata: { 'district.staffId': 'S-9', userMasterIdentifier: 'M-1' },
    });
    expect(JSON.stringify(personOf('u-t1'))).not.toContain('not-kept');
    const enrollments = await mirrorRows(app.databaseUrl, 'roster_enrollments', connectionId);
    expect(enrollments.map((row) => [row['sourced_id'], row['role'], row['extension_values']])).toEqual([
      ['e-c1', 'ext:coach', { role: 'ext:coach' }],
      ['e-s1', 'student', {}],
      ['e-s2', 'student', {}],
      ['e-t1', 'teacher', {}],
      ['e-t2', 'teacher', { role: 'ext:coTeacher' }],
      ['e-t3', 'teacher', {}],
    ]);
    const [demographics] = await mirrorRows(app.databaseUrl, 'roster_demographics', connectionId);
    expect(demographics).toMatchObject({ sex: 'ext:nonBinary', extension_values: { sex: 'ext:nonBinary' } });

    // Schools: the core one and the one mapped from ext:campus, never the unmapped annex.
    const schools = await sql<{ sourced_id: string }>(
      app.databaseUrl,
      `SELECT sourced_id FROM roster_orgs WHERE connection_id = $1 AND type = 'school' AND status = 'active'
        ORDER BY sourced_id`,
      [connectionId],
    );
    expect(schools.map((row) => row.sourced_id)).toEqual(['sch-1', 'sch-2']);
    const listed = await request(app.url).get('/api/v1/schools').set(bearer(token));
    expect(listed.status).toBe(200);
    const names = (listed.body as { items: { name: string }[] }).items.map((school) => school.name);
    expect(names).toEqual(expect.arrayContaining(['North School', 'East Campus']));
    expect(names).not.toContain('Bus Annex');

    // A teacher's classes (the mapped co-teacher teaches k-1), and a class roster through the API.
    const teaching = await sql<{ sourced_id: string }>(
      app.databaseUrl,
      `SELECT class_sourced_id AS sourced_id FROM roster_enrollments
        WHERE connection_id = $1 AND user_sourced_id = $2 AND role = 'teacher' ORDER BY 1`,
      [connectionId, 'u-t1'],
    );
    expect(teaching.map((row) => row.sourced_id)).toEqual(['k-1', 'k-3']);
    const k1 = classes.find((row) => row['sourced_id'] === 'k-1')!;
    const roster = await request(app.url)
      .get(`/api/v1/classes/${String(k1['id'])}/roster`)
      .set(bearer(token));
    expect(roster.status, JSON.stringify(roster.body)).toBe(200);
    const members = (roster.body as { members: { role: string; person: { sourcedId: string } }[] }).members;
    expect(members.map((member) => [member.person.sourcedId, member.role])).toEqual([
      ['u-t1', 'teacher'],
      ['u-t2', 'teacher'],
      ['u-s1', 'student'],
    ]);

    // Guardians of a student: the core guardian and the ext:grandparent mapped to relative.
    const student = people.find((row) => row['sourced_id'] === 'u-s1')!;
    const detail = await request(app.url)
      .get(`/api/v1/students/${String(student['id'])}`)
      .set(bearer(token));
    expect(detail.status, JSON.stringify(detail.body)).toBe(200);
    const guardians = (detail.body as { guardians: { givenName: string; role: string }[] }).guardians;
    expect(guardians.map((guardian) => [guardian.givenName, guardian.role]).sort()).toEqual([
      ['Gail', 'guardian'],
      ['Gus', 'relative'],
    ]);
  }, 180_000);

  it('optional fields left out mirror exactly as the same fields sent as null', async () => {
    const withNulls = await connect(await serve({ emptyValues: 'null' }));
    const omitted = await connect(await serve({ emptyValues: 'omit' }));
    expect((await syncAndWait(app.url, token, withNulls)).state).toBe('succeeded');
    expect((await syncAndWait(app.url, token, omitted)).state).toBe('succeeded');
    expect(await mirrorSnapshot(app.databaseUrl, omitted)).toEqual(await mirrorSnapshot(app.databaseUrl, withNulls));
  }, 180_000);

  it('a OneRoster 1.1 connection refuses extension mappings', async () => {
    const server = await serve({ versions: ['1.1', '1.2'] });
    const response = await request(app.url)
      .post('/api/v1/sis/connections')
      .set(bearer(token))
      .send({
        provider: 'oneroster',
        version: '1.1',
        name: 'shapes 1.1',
        baseUrl: server.baseUrlFor('1.1'),
        auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'fake-secret' },
        extensionMappings: MAPPINGS,
      });
    expect(response.status, JSON.stringify(response.body)).toBe(422);
    expect(JSON.stringify(response.body)).toContain('OneRoster 1.1 has no extension values');
  });
});
