import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectedMirrorCounts,
  FakePowerSchoolServer,
  generatePowerSchoolDistrict,
  psDayBefore,
  type FakePowerSchoolServerOptions,
} from '../fakes/powerschool/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { activeCount, mirrorRows, sql, syncAndWait, totals, type RunView } from './sync-support.js';

const DISTRICT = { schools: 2, students: 30, teachers: 4, sectionsPerTeacher: 3, enrollmentsPerStudent: 3 };
const ENTITIES = ['orgs', 'academicSessions', 'courses', 'classes', 'people', 'demographics', 'enrollments'] as const;

describe('PowerSchool sync', () => {
  let app: TestApp;
  let token: string;
  const servers: FakePowerSchoolServer[] = [];

  beforeAll(async () => {
    app = await bootTestApp();
    token = (await login(app.url)).accessToken;
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await app?.close();
  });

  async function district(
    seed: string,
    options: Partial<FakePowerSchoolServerOptions> = {},
  ): Promise<FakePowerSchoolServer> {
    const server = new FakePowerSchoolServer({
      dataset: generatePowerSchoolDistrict({ seed, ...DISTRICT }),
      // Small plugin maximums, so every listing pages.
      maxPageSizes: { students: 7, staff: 3, terms: 2, sections: 5, section_enrollment: 5 },
      ...options,
    });
    await server.start();
    servers.push(server);
    return server;
  }

  async function connect(
    server: FakePowerSchoolServer,
    fields: Record<string, unknown> = {},
  ): Promise<{ id: string; body: Record<string, unknown> }> {
    const response = await request(app.url)
      .post('/api/v1/sis/connections')
      .set(bearer(token))
      .send({
        name: `PowerSchool ${Math.random().toString(36).slice(2)}`,
        provider: 'powerschool',
        baseUrl: server.url,
        auth: { type: 'oauth2', clientId: server.clientId, clientSecret: server.clientSecret },
        requestTimeoutMs: 2_000,
        ...fields,
      });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return { id: (response.body as { id: string }).id, body: response.body as Record<string, unknown> };
  }

  function expectCreatedAsInDistrict(run: RunView, server: FakePowerSchoolServer): void {
    const expected = expectedMirrorCounts(server.dataset);
    for (const entity of ENTITIES) expect(run.counts[entity]?.['created'], entity).toBe(expected[entity]);
  }

  it('mirrors the district with its quirks read correctly, and a second run changes nothing', async () => {
    const server = await district('ps-full');
    const { id: connectionId, body } = await connect(server);
    expect(body).toMatchObject({
      provider: 'powerschool',
      version: null,
      hasSecret: true,
      enrollmentPowerQuery: null,
      auth: { type: 'oauth2', clientId: server.clientId, tokenUrl: server.tokenUrl },
    });
    expect(JSON.stringify(body)).not.toContain(server.clientSecret);

    const first = await syncAndWait(app.url, token, connectionId);
    expect(first.state, JSON.stringify(first)).toBe('succeeded');
    expect(first.source).toContain('powerschool-ws-v1@1');
    expectCreatedAsInDistrict(first, server);

    // The school with one student (every one of its listings a bare object) is mirrored; DCID is the
    // sourcedId, the student number the identifier.
    const data = server.dataset;
    const lonelySchool = data.schools[data.schools.length - 1];
    const lonely = data.students.find((student) => student.schoolDcid === lonelySchool.dcid)!;
    const [person] = await sql(
      app.databaseUrl,
      `SELECT identifier, metadata, roles, primary_org_sourced_id FROM roster_people
        WHERE connection_id = $1 AND sourced_id = $2 AND status = 'active'`,
      [connectionId, String(lonely.dcid)],
    );
    expect(person).toMatchObject({
      identifier: String(lonely.localId),
      primary_org_sourced_id: String(lonelySchool.dcid),
      metadata: { powerschool: { localId: String(lonely.localId), schoolNumber: String(lonelySchool.schoolNumber) } },
    });
    expect(String(lonely.dcid)).not.toBe(String(lonely.localId));
    // Exit dates are exclusive in PowerSchool: the mirror keeps the last day attended.
    expect((person['roles'] as { endDate: string }[])[0].endDate).toBe(psDayBefore(lonely.exitDate));
    const enrollment = data.sectionEnrollments.find((candidate) => candidate.studentDcid === lonely.dcid)!;
    const [mirrored] = await sql(
      app.databaseUrl,
      `SELECT to_char(begin_date, 'YYYY-MM-DD') AS begin_date, to_char(end_date, 'YYYY-MM-DD') AS end_date,
              user_sourced_id, class_sourced_id
         FROM roster_enrollments WHERE connection_id = $1 AND sourced_id = $2`,
      [connectionId, String(enrollment.dcid)],
    );
    expect(mirrored).toEqual({
      begin_date: enrollment.entryDate,
      end_date: psDayBefore(enrollment.exitDate),
      user_sourced_id: String(lonely.dcid),
      class_sourced_id: String(enrollment.sectionDcid),
    });
    // Student and staff DCIDs overlap (different tables): both people are there.
    const people = new Set(
      (await mirrorRows(app.databaseUrl, 'roster_people', connectionId)).map((row) => row['sourced_id']),
    );
    expect(people.has('5001') && people.has('staff-5001')).toBe(true);

    const before = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    const second = await syncAndWait(app.url, token, connectionId);
    expect(second.state).toBe('succeeded');
    expect(totals(second, 'created') + totals(second, 'updated') + totals(second, 'deactivated')).toBe(0);
    expect(totals(second, 'unchanged')).toBe(totals(first, 'created'));
    const after = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    expect(after.map((row) => [row['id'], row['updated_at']])).toEqual(
      before.map((row) => [row['id'], row['updated_at']]),
    );
  });

  it('runs a delta as a full pull diffed against the mirror: a removed student and a dropped class are deactivated', async () => {
    const server = await district('ps-delta');
    const { id: connectionId } = await connect(server, {
      // Removing one student of ~35 people would exceed the default 10 % hold on small entities.
      thresholds: { '*': { deactivate: {}, update: {} } },
    });
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');

    const data = server.dataset;
    const leaving = data.students[0];
    const leavingEnrollments = data.sectionEnrollments.filter(
      (enrollment) => enrollment.studentDcid === leaving.dcid && !enrollment.dropped,
    );
    const dropped = data.sectionEnrollments.find(
      (enrollment) => enrollment.studentDcid !== leaving.dcid && !enrollment.dropped,
    )!;
    server.removeStudent(leaving.dcid);
    server.dropSectionEnrollment(dropped.dcid);

    const delta = await syncAndWait(app.url, token, connectionId, { mode: 'delta' });
    expect(delta.state, JSON.stringify(delta)).toBe('succeeded');
    expect(delta.mode).toBe('full');
    expect(delta.deltaSince).toBeNull();
    expect(delta.source).toMatch(/full pull diffed against the mirror/);
    expect(delta.counts['people']?.['deactivated']).toBe(1);
    expect(delta.counts['demographics']?.['deactivated']).toBe(1);
    expect(delta.counts['enrollments']?.['deactivated']).toBe(leavingEnrollments.length + 1);
    expect(totals(delta, 'created') + totals(delta, 'updated')).toBe(0);
    const [row] = await sql(
      app.databaseUrl,
      'SELECT status FROM roster_people WHERE connection_id = $1 AND sourced_id = $2',
      [connectionId, String(leaving.dcid)],
    );
    expect(row['status']).toBe('inactive');
    const [droppedRow] = await sql(
      app.databaseUrl,
      'SELECT status FROM roster_enrollments WHERE connection_id = $1 AND sourced_id = $2',
      [connectionId, String(dropped.dcid)],
    );
    expect(droppedRow['status']).toBe('inactive');
  });

  it('rides out a token revoked mid-run, a 429 with Retry-After and a wrong /count', async () => {
    const server = await district('ps-faults');
    const { id: connectionId } = await connect(server);
    server.injectFault({ kind: 'revoke-tokens', afterRequests: 15, times: 2 });
    server.injectFault({ kind: 'rate-limit', retryAfterSeconds: 1, path: '/student', times: 1 });
    server.injectFault({ kind: 'wrong-count', path: '/section/count', times: 1 });
    const run = await syncAndWait(app.url, token, connectionId);
    server.clearFaults();
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    expectCreatedAsInDistrict(run, server);
    expect(server.tokensIssued).toBe(3);
    expect(server.requests.some((entry) => entry.status === 401)).toBe(true);
    expect(server.requests.some((entry) => entry.status === 429)).toBe(true);
  });

  it('fails clearly, naming the resource, when the plugin does not grant it; nothing is applied', async () => {
    const server = await district('ps-forbidden');
    server.forbid('staff');
    const { id: connectionId } = await connect(server);
    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.state).toBe('failed');
    expect(run.errorCode).toBe('SIS_SYNC.SOURCE_FORBIDDEN');
    expect(run.errorMessage).toMatch(/staff/);
    expect(await activeCount(app.databaseUrl, 'roster_orgs', connectionId)).toBe(0);
  });

  it('reads enrollments from a configured PowerQuery instead of one request per section', async () => {
    const server = await district('ps-powerquery');
    const { id: connectionId } = await connect(server, { enrollmentPowerQuery: server.powerQueryName });
    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    expect(run.source).toContain(server.powerQueryName);
    expectCreatedAsInDistrict(run, server);
    expect(server.dataRequests('/section_enrollment')).toHaveLength(0);

    const cleared = await request(app.url)
      .patch(`/api/v1/sis/connections/${connectionId}`)
      .set(bearer(token))
      .send({ enrollmentPowerQuery: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.enrollmentPowerQuery).toBeNull();
  });
});
