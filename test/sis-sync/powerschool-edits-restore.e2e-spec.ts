import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePowerSchoolServer, generatePowerSchoolDistrict } from '../fakes/powerschool/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { mirrorRows, syncAndWait, waitForRun } from './sync-support.js';

/** The PowerSchool scenarios: sticky edits and remaster, restore and its conflicts, the connection test. */
describe('PowerSchool: local edits, restore and the connection test', () => {
  let app: TestApp;
  let token: string;
  let server: FakePowerSchoolServer;
  let connectionId: string;

  beforeAll(async () => {
    app = await bootTestApp();
    token = (await login(app.url)).accessToken;
    server = new FakePowerSchoolServer({
      dataset: generatePowerSchoolDistrict({
        seed: 'ps-edits',
        schools: 2,
        students: 20,
        teachers: 3,
        sectionsPerTeacher: 2,
        enrollmentsPerStudent: 2,
      }),
    });
    await server.start();
    const created = await request(app.url)
      .post('/api/v1/sis/connections')
      .set(bearer(token))
      .send({
        name: 'PowerSchool district',
        provider: 'powerschool',
        baseUrl: server.url,
        auth: { type: 'oauth2', clientId: server.clientId, clientSecret: server.clientSecret },
        requestTimeoutMs: 2_000,
        thresholds: { '*': { create: {}, update: {}, deactivate: {} } },
      });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    connectionId = (created.body as { id: string }).id;
    expect((await syncAndWait(app.url, token, connectionId)).state).toMatch(/^succeeded/);
  });

  afterAll(async () => {
    await server?.stop();
    await app?.close();
  });

  async function person(sourcedId: string): Promise<Record<string, unknown>> {
    const rows = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    return rows.find((row) => row['sourced_id'] === sourcedId)!;
  }

  it('keeps a sticky local phone through a re-sync that changes it, and a remaster run lets the SIS win', async () => {
    const student = server.dataset.students[0];
    const id = String((await person(String(student.dcid)))['id']);
    await request(app.url).patch(`/api/v1/students/${id}`).set(bearer(token)).send({ phone: '555-0100' }).expect(200);

    server.updateStudent(student.dcid, { phone: '555-0199' });
    const resync = await syncAndWait(app.url, token, connectionId);
    expect(resync.counts['people']?.['conflicts']).toBe(1);
    expect((await person(String(student.dcid)))['phone']).toBe('555-0100');

    const started = await request(app.url)
      .post(`/api/v1/sis/connections/${connectionId}/sync`)
      .set(bearer(token))
      .send({ mode: 'full', remaster: true })
      .expect(202);
    await waitForRun(app.url, token, (started.body as { runId: string }).runId);
    expect((await person(String(student.dcid)))['phone']).toBe('555-0199');
  });

  it('restores a run, and reports a record a later run changed as a conflict instead of overwriting it', async () => {
    const [reverted, later] = server.dataset.students.slice(1, 3);
    const before = await person(String(reverted.dcid));
    for (const student of [reverted, later]) server.updateStudent(student.dcid, { lastName: `${student.lastName}x` });
    const run = await syncAndWait(app.url, token, connectionId);
    server.updateStudent(later.dcid, { lastName: `${later.lastName}y` });
    await syncAndWait(app.url, token, connectionId);

    const restored = await request(app.url).post(`/api/v1/sis/runs/${run.id}/restore`).set(bearer(token)).send({});
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    expect(restored.body.counts.people).toMatchObject({ reverted: 1, conflicts: 1 });
    expect(restored.body.conflicts).toContainEqual(
      expect.objectContaining({ entity: 'people', sourcedId: String(later.dcid) }),
    );
    expect((await person(String(reverted.dcid)))['family_name']).toBe(before['family_name']);
    expect(String((await person(String(later.dcid)))['family_name'])).toMatch(/xy$/);
  });

  it('the connection test names a resource the plugin does not grant', async () => {
    server.forbid('staff');
    try {
      const tested = await request(app.url).post(`/api/v1/sis/connections/${connectionId}/test`).set(bearer(token));
      expect(tested.status).toBe(200);
      expect(tested.body.ok).toBe(false);
      const checks = tested.body.checks as { check: string; ok: boolean }[];
      expect(checks.find((check) => check.check === 'permission:staff')?.ok).toBe(false);
      expect(checks.find((check) => check.check === 'credentials')?.ok).toBe(true);
      expect(checks.find((check) => check.check === 'permission:students')?.ok).toBe(true);
    } finally {
      server.allow('staff');
    }
  });
});
