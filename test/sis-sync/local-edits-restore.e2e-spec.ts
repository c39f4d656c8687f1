import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOneRosterServer, generateDistrict } from '../fakes/oneroster/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { auditedStudents, createOneRosterConnection, mirrorRows, syncAndWait } from './sync-support.js';

const NO_HOLDS = { '*': { create: {}, update: {}, deactivate: {} } };

describe('local edits, field policies and run restore', () => {
  let app: TestApp;
  let token: string;
  const servers: FakeOneRosterServer[] = [];

  beforeAll(async () => {
    app = await bootTestApp();
    token = (await login(app.url)).accessToken;
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await app?.close();
  });

  async function district(seed: string, fields: Record<string, unknown> = {}) {
    const server = new FakeOneRosterServer({
      dataset: generateDistrict({ seed, schools: 2, students: 30, teachers: 4, classes: 6 }),
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: 'fake-secret' },
    });
    await server.start();
    servers.push(server);
    const connectionId = await createOneRosterConnection(app.url, token, {
      name: `edits ${seed}`,
      baseUrl: server.baseUrlFor('1.2'),
      auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'fake-secret' },
      pageSize: 50,
      thresholds: NO_HOLDS,
      ...fields,
    });
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');
    return { server, connectionId };
  }

  async function person(connectionId: string, sourcedId: string): Promise<Record<string, unknown>> {
    const rows = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    const row = rows.find((candidate) => candidate['sourced_id'] === sourcedId);
    expect(row, sourcedId).toBeDefined();
    return row!;
  }

  function firstStudent(server: FakeOneRosterServer) {
    return server.dataset.users.find((user) => user.roles.some((role) => role.role === 'student'))!;
  }

  it('keeps a sticky local edit through a sync that changes the field, lists the conflict, and remaster overrides it', async () => {
    const { server, connectionId } = await district('sticky');
    const student = firstStudent(server);
    const local = await person(connectionId, student.sourcedId);

    const edited = await request(app.url)
      .patch(`/api/v1/students/${String(local['id'])}`)
      .set(bearer(token))
      .send({ preferredFirstName: 'Jo', directoryOptOut: true, contactPreferences: { sms: false, language: 'es' } });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body.localEdits.preferredFirstName).toMatchObject({ value: 'Jo' });
    expect(edited.body.directoryOptOut).toBe(true);

    server.updateRecords('users', [student.sourcedId], (user) => {
      user.preferredFirstName = 'Joey';
    });
    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.state).toBe('succeeded');
    expect(run.counts['people']?.['conflicts']).toBe(1);
    const issues = await request(app.url).get(`/api/v1/sis/runs/${run.id}/issues`).set(bearer(token));
    expect(issues.body).toContainEqual(
      expect.objectContaining({ severity: 'conflict', sourcedId: student.sourcedId, field: 'preferredFirstName' }),
    );
    const kept = await person(connectionId, student.sourcedId);
    expect(kept['preferred_first_name']).toBe('Jo');
    expect(kept['directory_opt_out']).toBe(true);

    const remastered = await waitForRemaster(connectionId);
    expect(remastered.state).toBe('succeeded');
    const overridden = await person(connectionId, student.sourcedId);
    expect(overridden['preferred_first_name']).toBe('Joey');
    expect(overridden['local_overrides']).toEqual({});
    expect(overridden['directory_opt_out']).toBe(true);
    expect(overridden['contact_preferences']).toEqual({ sms: false, language: 'es' });
  });

  async function waitForRemaster(connectionId: string) {
    const started = await request(app.url)
      .post(`/api/v1/sis/connections/${connectionId}/sync`)
      .set(bearer(token))
      .send({ mode: 'full', remaster: true });
    expect(started.status).toBe(202);
    const { waitForRun } = await import('./sync-support.js');
    return waitForRun(app.url, token, (started.body as { runId: string }).runId);
  }

  it('clearing a sticky edit brings the SIS value back; a `local` field is never overwritten; `sis` fields follow the SIS', async () => {
    const { server, connectionId } = await district('policies', {
      fieldPolicies: { pronouns: 'local', preferredLastName: 'sis' },
    });
    const student = firstStudent(server);
    const id = String((await person(connectionId, student.sourcedId))['id']);
    await request(app.url)
      .patch(`/api/v1/students/${id}`)
      .set(bearer(token))
      .send({ preferredFirstName: 'Local', pronouns: 'they/them', preferredLastName: 'Temporary' })
      .expect(200);
    server.updateRecords('users', [student.sourcedId], (user) => {
      user.pronouns = 'she/her';
      user.preferredFirstName = 'Sis';
      user.preferredLastName = 'FromSis';
    });
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');
    const after = await person(connectionId, student.sourcedId);
    expect(after['pronouns']).toBe('they/them');
    expect(after['preferred_first_name']).toBe('Local');
    expect(after['preferred_last_name']).toBe('FromSis');

    const cleared = await request(app.url)
      .delete(`/api/v1/students/${id}/local-edits/preferredFirstName`)
      .set(bearer(token));
    expect(cleared.status).toBe(200);
    expect((await person(connectionId, student.sourcedId))['preferred_first_name']).toBe('Sis');
    await request(app.url)
      .delete(`/api/v1/students/${id}/local-edits/preferredFirstName`)
      .set(bearer(token))
      .expect(404);
    await request(app.url).delete(`/api/v1/students/${id}/local-edits/birthDate`).set(bearer(token)).expect(400);
  });

  it('refuses edits from roles that may not make them and fields that are not locally owned', async () => {
    const { server, connectionId } = await district('edit-authz');
    const id = String((await person(connectionId, firstStudent(server).sourcedId))['id']);
    const teacherEmail = 'teacher.edits@district.test';
    await request(app.url)
      .post('/api/v1/users')
      .set(bearer(token))
      .send({ email: teacherEmail, displayName: 'Teacher', password: 'teacher-password-123', roles: ['teacher'] })
      .expect(201);
    const teacher = await login(app.url, teacherEmail, 'teacher-password-123');
    await request(app.url)
      .patch(`/api/v1/students/${id}`)
      .set(bearer(teacher.accessToken))
      .send({ pronouns: 'x' })
      .expect(403);
    await request(app.url).patch(`/api/v1/students/${id}`).set(bearer(token)).send({ givenName: 'Nope' }).expect(400);
    await request(app.url).patch(`/api/v1/staff/${id}`).set(bearer(token)).send({ pronouns: 'x' }).expect(404);
  });

  it('restores a run: updates reverted and deactivations undone; a record a later run changed is a conflict', async () => {
    const { server, connectionId } = await district('restore');
    const [changed, touchedLater] = server.dataset.users.filter((user) =>
      user.roles.some((role) => role.role === 'student'),
    );
    const removedClass = server.dataset.classes[0].sourcedId;
    const before = await person(connectionId, changed.sourcedId);

    server.updateRecords('users', [changed.sourcedId, touchedLater.sourcedId], (user) => {
      user.familyName = `${user.familyName}-Changed`;
    });
    server.removeRecords('classes', [removedClass]);
    const run = await syncAndWait(app.url, token, connectionId);
    // The removed class's enrollments are skipped as unresolved: issues, not failure.
    expect(run.state).toMatch(/^succeeded/);
    expect(run.counts['classes']?.['deactivated']).toBe(1);

    server.updateRecords('users', [touchedLater.sourcedId], (user) => {
      user.familyName = `${user.familyName}-Again`;
    });
    const later = await syncAndWait(app.url, token, connectionId);
    expect(later.state).toMatch(/^succeeded/);

    const restored = await request(app.url).post(`/api/v1/sis/runs/${run.id}/restore`).set(bearer(token)).send({});
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    expect(restored.body.conflictCount).toBeGreaterThanOrEqual(1);
    expect(restored.body.conflicts).toContainEqual(
      expect.objectContaining({ entity: 'people', sourcedId: touchedLater.sourcedId }),
    );
    // The conflicts name students by sourcedId: the restore's audit entry names them by local id.
    const conflictStudent = String((await person(connectionId, touchedLater.sourcedId))['id']);
    expect(await auditedStudents(app.databaseUrl, String(restored.headers['x-request-id']))).toContain(conflictStudent);
    expect((await person(connectionId, changed.sourcedId))['family_name']).toBe(before['family_name']);
    expect(String((await person(connectionId, touchedLater.sourcedId))['family_name'])).toMatch(/-Changed-Again$/);
    const classes = await mirrorRows(app.databaseUrl, 'roster_classes', connectionId);
    expect(classes.find((row) => row['sourced_id'] === removedClass)?.['status']).toBe('active');

    const again = await request(app.url).post(`/api/v1/sis/runs/${run.id}/restore`).set(bearer(token)).send({});
    expect(again.status).toBe(409);
  });

  it('undeleteOnly brings back deactivated records and leaves the rest of the run', async () => {
    const { server, connectionId } = await district('undelete');
    const student = firstStudent(server);
    const removedClass = server.dataset.classes[1].sourcedId;
    server.updateRecords('users', [student.sourcedId], (user) => {
      user.familyName = 'Renamed';
    });
    server.removeRecords('classes', [removedClass]);
    const run = await syncAndWait(app.url, token, connectionId);
    const restored = await request(app.url)
      .post(`/api/v1/sis/runs/${run.id}/restore`)
      .set(bearer(token))
      .send({ undeleteOnly: true });
    expect(restored.status).toBe(200);
    expect(restored.body.counts.classes).toMatchObject({ undeleted: 1 });
    expect((await person(connectionId, student.sourcedId))['family_name']).toBe('Renamed');
    const classes = await mirrorRows(app.databaseUrl, 'roster_classes', connectionId);
    expect(classes.find((row) => row['sourced_id'] === removedClass)?.['status']).toBe('active');
  });
});
