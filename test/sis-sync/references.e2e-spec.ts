import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOneRosterServer, generateDistrict } from '../fakes/oneroster/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { createOneRosterConnection, mirrorRows, syncAndWait, waitForRun, type RunView } from './sync-support.js';

const DISTRICT = { schools: 2, students: 40, teachers: 6, classes: 8 };
const PASSWORD = 'a-long-enough-password';

interface Issue {
  entity: string;
  sourcedId: string | null;
  field: string | null;
  severity: string;
  message: string;
}

/** Issue 20 §2 (departments, agents, one reference check for all) and §7 (the preview is what the apply does). */
describe('OneRoster references', () => {
  let app: TestApp;
  let token: string;
  const servers: FakeOneRosterServer[] = [];

  beforeAll(async () => {
    app = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    token = (await login(app.url)).accessToken;
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await app?.close();
  });

  async function district(seed: string): Promise<FakeOneRosterServer> {
    const server = new FakeOneRosterServer({
      dataset: generateDistrict({ seed, ...DISTRICT }),
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: 'fake-secret', expiresInAsString: true },
    });
    await server.start();
    servers.push(server);
    return server;
  }

  async function connect(server: FakeOneRosterServer, fields: Record<string, unknown> = {}): Promise<string> {
    return createOneRosterConnection(app.url, token, {
      name: `district ${Math.random().toString(36).slice(2)}`,
      baseUrl: server.baseUrlFor('1.2'),
      auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'fake-secret' },
      pageSize: 25,
      ...fields,
    });
  }

  async function issuesOf(runId: string): Promise<Issue[]> {
    const response = await request(app.url).get(`/api/v1/sis/runs/${runId}/issues`).set(bearer(token)).expect(200);
    return response.body as Issue[];
  }

  async function createUser(email: string, roles: string[], schoolIds: string[] = []): Promise<string> {
    await request(app.url)
      .post('/api/v1/users')
      .set(bearer(token))
      .send({ email, displayName: email, password: PASSWORD, roles, schoolIds })
      .expect(201);
    return (await login(app.url, email, PASSWORD)).accessToken;
  }

  function students(server: FakeOneRosterServer, count: number): string[] {
    return server.dataset.users
      .filter((user) => user.roles[0]?.role === 'student')
      .slice(0, count)
      .map((user) => user.sourcedId);
  }

  /** A new class of `schoolSourcedId` with `students` enrolled in it. */
  function addClass(
    server: FakeOneRosterServer,
    sourcedId: string,
    courseSourcedId: string,
    schoolSourcedId: string,
    enrolled: readonly string[],
    termSourcedIds: string[] = [server.dataset.academicSessions.find((s) => s.type !== 'schoolYear')!.sourcedId],
  ): void {
    server.addRecords('classes', [
      {
        sourcedId,
        title: `Class ${sourcedId}`,
        classCode: sourcedId,
        classType: 'scheduled',
        location: null,
        grades: [],
        subjects: [],
        subjectCodes: [],
        periods: ['1'],
        courseSourcedId,
        schoolSourcedId,
        termSourcedIds,
      },
    ]);
    server.addRecords(
      'enrollments',
      enrolled.map((user) => ({
        sourcedId: `${sourcedId}-${user}`,
        classSourcedId: sourcedId,
        schoolSourcedId,
        userSourcedId: user,
        role: 'student' as const,
        primary: false,
        beginDate: null,
        endDate: null,
      })),
    );
  }

  function preview(run: RunView, entity: string): Record<string, unknown> {
    return run.preview?.[entity] ?? {};
  }

  it('a held run previews the skips its apply makes: the counts after approval are the ones previewed', async () => {
    const server = await district('preview-skips');
    const connectionId = await connect(server);
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');
    await request(app.url)
      .patch(`/api/v1/sis/connections/${connectionId}`)
      .set(bearer(token))
      .send({ thresholds: { enrollments: { create: { maxCount: 3 } } } })
      .expect(200);
    const school = server.dataset.orgs.find((org) => org.type === 'school')!.sourcedId;
    // A course that arrives in the same run as its class is fine; a course nobody lists is not.
    server.addRecords('courses', [
      {
        sourcedId: 'crs-new',
        title: 'New course',
        courseCode: 'NEW',
        grades: [],
        subjects: [],
        subjectCodes: [],
        orgSourcedId: school,
        schoolYearSourcedId: null,
      },
    ]);
    const enrolled = students(server, 6);
    addClass(server, 'cls-good', 'crs-new', school, enrolled);
    addClass(server, 'cls-orphan', 'crs-missing', school, enrolled);

    const held = await syncAndWait(app.url, token, connectionId);
    expect(held.state).toBe('held');
    expect(preview(held, 'courses')).toMatchObject({ create: 1, skip: 0 });
    expect(preview(held, 'classes')).toMatchObject({ create: 1, skip: 1, samples: { skip: ['cls-orphan'] } });
    expect(preview(held, 'enrollments')).toMatchObject({ create: 6, skip: 6 });
    expect((preview(held, 'enrollments')['samples'] as Record<string, string[]>)['skip']).toHaveLength(5);

    await request(app.url).post(`/api/v1/sis/runs/${held.id}/approve`).set(bearer(token)).expect(202);
    const applied = await waitForRun(app.url, token, held.id);
    expect(applied.state).toBe('succeeded_with_issues');
    for (const entity of ['courses', 'classes', 'enrollments']) {
      expect(
        { created: applied.counts[entity]?.['created'], skipped: applied.counts[entity]?.['skipped'] },
        entity,
      ).toEqual({ created: preview(held, entity)['create'], skipped: preview(held, entity)['skip'] });
    }
    const issues = await issuesOf(held.id);
    expect(issues).toContainEqual(
      expect.objectContaining({
        entity: 'classes',
        sourcedId: 'cls-orphan',
        field: 'courseSourcedId',
        severity: 'error',
        message: 'Skipped: courseSourcedId "crs-missing" is not an active record of this connection',
      }),
    );
    expect(issues.filter((issue) => issue.entity === 'enrollments' && issue.severity === 'error')).toHaveLength(6);
  });

  it('checks optional references the same way: the record is kept, each missing one is a warning', async () => {
    const server = await district('optional-refs');
    const connectionId = await connect(server);
    const school = server.dataset.orgs.find((org) => org.type === 'school')!.sourcedId;
    const course = server.dataset.courses[0];
    server.updateRecords('courses', [course.sourcedId], { orgSourcedId: 'org-missing' });
    addClass(server, 'cls-termless', course.sourcedId, school, students(server, 1), ['term-missing']);
    const teacher = server.dataset.users.find((user) => user.roles[0]?.role === 'teacher')!;
    server.updateRecords('users', [teacher.sourcedId], (user) => {
      user.agentSourcedIds = [...user.agentSourcedIds, 'agent-missing'];
    });

    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.counts['classes']?.['created']).toBe(server.dataset.classes.length);
    expect(run.counts['courses']?.['skipped']).toBe(0);
    const issues = await issuesOf(run.id);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          entity: 'courses',
          sourcedId: course.sourcedId,
          field: 'orgSourcedId',
          severity: 'warning',
          message: 'Kept without it: orgSourcedId "org-missing" is not an active record of this connection',
        }),
        expect.objectContaining({
          entity: 'classes',
          sourcedId: 'cls-termless',
          field: 'termSourcedIds',
          severity: 'warning',
          message: 'Kept without it: termSourcedIds "term-missing" is not an active record of this connection',
        }),
        expect.objectContaining({
          entity: 'people',
          sourcedId: teacher.sourcedId,
          field: 'agentSourcedIds',
          severity: 'warning',
        }),
      ]),
    );
    expect(run.state).toBe('succeeded');
  });

  it('resolves a department to its school: the school admin sees its students and classes', async () => {
    const server = await district('departments');
    const [school, other] = server.dataset.orgs.filter((org) => org.type === 'school');
    server.addRecords('orgs', [
      {
        sourcedId: 'dept-science',
        name: 'Science',
        type: 'department',
        identifier: null,
        parentSourcedId: school.sourcedId,
      },
      {
        sourcedId: 'dept-physics',
        name: 'Physics',
        type: 'department',
        identifier: null,
        parentSourcedId: 'dept-science',
      },
      { sourcedId: 'dept-orphan', name: 'Orphan', type: 'department', identifier: null, parentSourcedId: null },
    ]);
    const student = server.dataset.users.find(
      (user) => user.roles[0]?.role === 'student' && user.roles[0].orgSourcedId === other.sourcedId,
    )!;
    server.updateRecords('users', [student.sourcedId], (user) => {
      user.roles = [{ ...user.roles[0], orgSourcedId: 'dept-physics' }];
      user.primaryOrgSourcedId = 'dept-physics';
    });
    const course = server.dataset.courses[0].sourcedId;
    addClass(server, 'cls-physics', course, 'dept-physics', []);
    addClass(server, 'cls-nowhere', course, 'dept-orphan', []);
    const connectionId = await connect(server);
    const run = await syncAndWait(app.url, token, connectionId);
    const issues = await issuesOf(run.id);
    expect(issues).toContainEqual(
      expect.objectContaining({
        entity: 'classes',
        sourcedId: 'cls-nowhere',
        field: 'schoolSourcedId',
        severity: 'warning',
      }),
    );
    expect(
      issues.filter((issue) => issue.sourcedId === 'cls-physics' || issue.sourcedId === student.sourcedId),
    ).toEqual([]);

    const orgs = await mirrorRows(app.databaseUrl, 'roster_orgs', connectionId);
    const schoolId = orgs.find((org) => org['sourced_id'] === school.sourcedId)!['id'] as string;
    const admin = await createUser(`dept.admin.${Date.now()}@district.test`, ['school_admin'], [schoolId]);
    const seenStudents = await request(app.url).get('/api/v1/students?limit=200').set(bearer(admin)).expect(200);
    const mine = (
      seenStudents.body.items as { id: string; sourcedId: string; schools: { sourcedId: string }[] }[]
    ).find((item) => item.sourcedId === student.sourcedId);
    expect(mine?.schools.map((item) => item.sourcedId)).toEqual([school.sourcedId]);
    const seenClasses = await request(app.url).get('/api/v1/classes?limit=200').set(bearer(admin)).expect(200);
    const physics = (seenClasses.body.items as { sourcedId: string; school: { sourcedId: string } | null }[]).find(
      (item) => item.sourcedId === 'cls-physics',
    );
    expect(physics?.school?.sourcedId).toBe(school.sourcedId);
    const detail = await request(app.url).get(`/api/v1/students/${mine!.id}`).set(bearer(admin));
    expect(detail.status).toBe(200);
  });

  it('resolves a department to its school for staff: list and single record agree', async () => {
    const server = await district('staff-departments');
    const [school, other] = server.dataset.orgs.filter((org) => org.type === 'school');
    const districtOrg = server.dataset.orgs.find((org) => org.type === 'district')!;
    server.addRecords('orgs', [
      { sourcedId: 'dept-arts', name: 'Arts', type: 'department', identifier: null, parentSourcedId: school.sourcedId },
    ]);
    const template = server.dataset.users.find((user) => user.roles[0]?.role === 'teacher')!;
    /** A new teacher listed in `org` only, teaching nothing yet. */
    const teacher = (sourcedId: string, org: string) => ({
      ...template,
      sourcedId,
      username: null,
      userIds: [],
      identifier: null,
      email: `${sourcedId}@district.test`,
      givenName: sourcedId,
      roles: [{ ...template.roles[0], orgSourcedId: org }],
      primaryOrgSourcedId: org,
      agentSourcedIds: [],
    });
    // (a) listed only in a department of the school; (b) listed in the district only, teaching a department's class.
    server.addRecords('users', [
      teacher('tch-dept-listed', 'dept-arts'),
      teacher('tch-dept-class', districtOrg.sourcedId),
    ]);
    addClass(server, 'cls-arts', server.dataset.courses[0].sourcedId, 'dept-arts', []);
    server.addRecords('enrollments', [
      {
        sourcedId: 'cls-arts-tch-dept-class',
        classSourcedId: 'cls-arts',
        schoolSourcedId: 'dept-arts',
        userSourcedId: 'tch-dept-class',
        role: 'teacher' as const,
        primary: true,
        beginDate: null,
        endDate: null,
      },
    ]);
    const connectionId = await connect(server);
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');

    const orgs = await mirrorRows(app.databaseUrl, 'roster_orgs', connectionId);
    const orgId = (sourcedId: string) => orgs.find((org) => org['sourced_id'] === sourcedId)!['id'] as string;
    const people = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    const personId = (sourcedId: string) => people.find((row) => row['sourced_id'] === sourcedId)!['id'] as string;
    const stamp = Date.now();
    const admin = await createUser(
      `staff.dept.admin.${stamp}@district.test`,
      ['school_admin'],
      [orgId(school.sourcedId)],
    );
    const otherAdmin = await createUser(
      `staff.dept.other.${stamp}@district.test`,
      ['school_admin'],
      [orgId(other.sourcedId)],
    );
    const listed = async (caller: string): Promise<string[]> => {
      const response = await request(app.url).get('/api/v1/staff?limit=200').set(bearer(caller)).expect(200);
      expect(response.body.nextCursor).toBeNull();
      return (response.body.items as { sourcedId: string }[]).map((item) => item.sourcedId);
    };
    const mine = await listed(admin);
    const theirs = await listed(otherAdmin);
    for (const sourcedId of ['tch-dept-listed', 'tch-dept-class']) {
      expect(mine).toContain(sourcedId);
      expect(theirs).not.toContain(sourcedId);
      await request(app.url)
        .get(`/api/v1/staff/${personId(sourcedId)}`)
        .set(bearer(admin))
        .expect(200);
      const denied = await request(app.url)
        .get(`/api/v1/staff/${personId(sourcedId)}`)
        .set(bearer(otherAdmin));
      expect(denied.status).toBe(403);
      expect(denied.body.code).toBe('ROSTER.ACCESS_DENIED');
    }
    // The school filter follows the same rule as the scope.
    const filtered = await request(app.url)
      .get(`/api/v1/staff?limit=200&connectionId=${connectionId}&schoolId=${orgId(school.sourcedId)}`)
      .set(bearer(token))
      .expect(200);
    expect((filtered.body.items as { sourcedId: string }[]).map((item) => item.sourcedId)).toEqual(
      expect.arrayContaining(['tch-dept-listed', 'tch-dept-class']),
    );
  });

  it('only parent, guardian and relative agents are guardians: a teacher among the agents is not', async () => {
    const server = await district('agents');
    const student = server.dataset.users.find(
      (user) => user.roles[0]?.role === 'student' && user.agentSourcedIds.length > 0,
    )!;
    const teacher = server.dataset.users.find((user) => user.roles[0]?.role === 'teacher')!;
    const agents = [...student.agentSourcedIds].sort();
    server.updateRecords('users', [student.sourcedId], (user) => {
      user.agentSourcedIds = [...user.agentSourcedIds, teacher.sourcedId];
    });
    const connectionId = await connect(server);
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');
    const people = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    const studentId = people.find((row) => row['sourced_id'] === student.sourcedId)!['id'] as string;
    const response = await request(app.url).get(`/api/v1/students/${studentId}`).set(bearer(token)).expect(200);
    const guardians = response.body.guardians as { sourcedId: string; role: string }[];
    expect(guardians.map((guardian) => guardian.sourcedId).sort()).toEqual(agents);
    expect(guardians.every((guardian) => ['parent', 'guardian', 'relative'].includes(guardian.role))).toBe(true);
  });
});
