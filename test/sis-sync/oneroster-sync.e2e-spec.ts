import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOneRosterServer, generateDistrict, type FakeOneRosterServerOptions } from '../fakes/oneroster/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import {
  activeCount,
  createOneRosterConnection,
  mirrorRows,
  sql,
  startRun,
  syncAndWait,
  totals,
  waitForRun,
} from './sync-support.js';

const DISTRICT = { schools: 2, students: 40, teachers: 6, classes: 8 };

describe('OneRoster REST sync', () => {
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

  async function district(
    seed: string,
    options: Partial<FakeOneRosterServerOptions> = {},
  ): Promise<FakeOneRosterServer> {
    const server = new FakeOneRosterServer({
      dataset: generateDistrict({ seed, ...DISTRICT }),
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: 'fake-secret', expiresInAsString: true },
      ...options,
    });
    await server.start();
    servers.push(server);
    return server;
  }

  async function connect(server: FakeOneRosterServer, fields: Record<string, unknown> = {}): Promise<string> {
    const version = (fields['version'] as '1.1' | '1.2' | undefined) ?? '1.2';
    return createOneRosterConnection(app.url, token, {
      name: `district ${Math.random().toString(36).slice(2)}`,
      baseUrl: server.baseUrlFor(version),
      auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'fake-secret' },
      pageSize: 25,
      ...fields,
    });
  }

  it('mirrors the district on a full sync, and a second identical run changes nothing', async () => {
    const server = await district('full-rerun');
    const connectionId = await connect(server);

    const first = await syncAndWait(app.url, token, connectionId);
    expect(first.state, JSON.stringify(first)).toBe('succeeded');
    const dataset = server.dataset;
    expect(first.counts['people']?.['created']).toBe(dataset.users.length);
    expect(first.counts['enrollments']?.['created']).toBe(dataset.enrollments.length);
    expect(first.counts['classes']?.['created']).toBe(dataset.classes.length);
    expect(await activeCount(app.databaseUrl, 'roster_enrollments', connectionId)).toBe(dataset.enrollments.length);
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

  it('a delta run asks for changes since the last run and touches exactly the changed records', async () => {
    const server = await district('delta');
    const connectionId = await connect(server);
    const full = await syncAndWait(app.url, token, connectionId);
    expect(full.state).toBe('succeeded');

    const students = server.dataset.users.filter((user) => user.roles.some((role) => role.role === 'student'));
    const changed = students.slice(0, 3).map((user) => user.sourcedId);
    server.updateRecords('users', changed, (user) => {
      user.familyName = `${user.familyName}-Renamed`;
    });
    server.resetObservations();

    const delta = await syncAndWait(app.url, token, connectionId, { mode: 'delta' });
    expect(delta.state, JSON.stringify(delta)).toBe('succeeded');
    expect(delta.mode).toBe('delta');
    expect(delta.deltaSince).not.toBeNull();
    const filters = server.dataRequests().map((entry) => entry.filter);
    expect(filters.length).toBeGreaterThan(0);
    expect(filters.every((filter) => filter?.startsWith("dateLastModified>='"))).toBe(true);
    expect(delta.counts['people']?.['updated']).toBe(3);
    expect(totals(delta, 'updated')).toBe(3);
    expect(totals(delta, 'created') + totals(delta, 'deactivated')).toBe(0);
    const people = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    expect(
      people
        .filter((row) => String(row['family_name']).endsWith('-Renamed'))
        .map((row) => row['sourced_id'])
        .sort(),
    ).toEqual([...changed].sort());
  });

  it('holds a mass drop for review with a preview; discarding it changes nothing', async () => {
    const server = await district('mass-drop');
    const connectionId = await connect(server);
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');
    const activeBefore = await activeCount(app.databaseUrl, 'roster_people', connectionId);

    const students = server.dataset.users.filter((user) => user.roles.some((role) => role.role === 'student'));
    server.removeRecords(
      'users',
      students.slice(0, 20).map((user) => user.sourcedId),
    );
    const held = await syncAndWait(app.url, token, connectionId);
    expect(held.state).toBe('held');
    expect(held.holdReasons).toContainEqual(
      expect.objectContaining({ kind: 'threshold', entity: 'people', action: 'deactivate' }),
    );
    expect(held.preview?.['people']?.['deactivate']).toBe(20);
    expect((held.preview?.['people']?.['samples'] as Record<string, string[]>)['deactivate']).toHaveLength(5);
    expect(await activeCount(app.databaseUrl, 'roster_people', connectionId)).toBe(activeBefore);

    const conflict = await request(app.url)
      .post(`/api/v1/sis/connections/${connectionId}/sync`)
      .set(bearer(token))
      .send({});
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('SIS_SYNC.RUN_ALREADY_ACTIVE');

    const discarded = await request(app.url).post(`/api/v1/sis/runs/${held.id}/discard`).set(bearer(token));
    expect(discarded.status).toBe(200);
    expect(discarded.body.state).toBe('cancelled');
    expect(await activeCount(app.databaseUrl, 'roster_people', connectionId)).toBe(activeBefore);
    const again = await request(app.url).post(`/api/v1/sis/runs/${held.id}/approve`).set(bearer(token));
    expect(again.status).toBe(409);
  });

  it('lists runs without student sourcedIds, and audits a run and its issues with the students they name', async () => {
    const server = await district('audited-names');
    const connectionId = await connect(server);
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');
    const students = server.dataset.users.filter((user) => user.roles.some((role) => role.role === 'student'));
    const studentIdsOf = async (sourcedIds: readonly string[]) =>
      (
        await sql<{ id: string }>(
          app.databaseUrl,
          `SELECT id FROM roster_people WHERE connection_id = $1 AND sourced_id = ANY($2::text[])`,
          [connectionId, sourcedIds],
        )
      )
        .map((row) => row.id)
        .sort();
    const auditedStudents = async (requestId: string) => {
      const rows = await sql<{ entry: string }>(
        app.databaseUrl,
        `SELECT entry FROM audit_event_payloads WHERE entry::jsonb #>> '{origin,requestId}' = $1`,
        [requestId],
      );
      expect(rows).toHaveLength(1);
      return [...(JSON.parse(rows[0].entry) as { studentIds: string[] }).studentIds].sort();
    };

    // An enrollment already in the mirror moves to a class the SIS does not send: one issue naming it.
    const [mirrored] = await sql<{ sourced_id: string; user_sourced_id: string }>(
      app.databaseUrl,
      `SELECT sourced_id, user_sourced_id FROM roster_enrollments
        WHERE connection_id = $1 AND role = 'student' AND status = 'active' ORDER BY sourced_id LIMIT 1`,
      [connectionId],
    );
    server.updateRecords('enrollments', [mirrored.sourced_id], (enrollment) => {
      enrollment.classSourcedId = 'no-such-class';
    });
    const withIssue = await syncAndWait(app.url, token, connectionId);
    expect(withIssue.issueCount, JSON.stringify(withIssue)).toBeGreaterThan(0);
    for (const accept of ['application/json', 'text/csv']) {
      const issues = await request(app.url)
        .get(`/api/v1/sis/runs/${withIssue.id}/issues`)
        .set(bearer(token))
        .set('Accept', accept);
      expect(issues.status).toBe(200);
      expect(await auditedStudents(String(issues.headers['x-request-id']))).toEqual(
        expect.arrayContaining(await studentIdsOf([mirrored.user_sourced_id])),
      );
    }

    const dropped = students.filter((user) => user.sourcedId !== mirrored.user_sourced_id).slice(0, 20);
    server.removeRecords(
      'users',
      dropped.map((user) => user.sourcedId),
    );
    const held = await syncAndWait(app.url, token, connectionId);
    expect(held.state).toBe('held');
    const sampled = (held.preview?.['people']?.['samples'] as Record<string, string[]>)['deactivate'];
    expect(sampled.length).toBeGreaterThan(0);

    const list = await request(app.url).get(`/api/v1/sis/runs?connectionId=${connectionId}`).set(bearer(token));
    expect(list.status).toBe(200);
    const listed = (list.body.items as { id: string; preview: Record<string, Record<string, unknown>> | null }[]).find(
      (run) => run.id === held.id,
    );
    expect(listed?.preview?.['people']?.['deactivate']).toBe(20);
    for (const run of list.body.items as { preview: Record<string, Record<string, unknown>> | null }[]) {
      for (const entry of Object.values(run.preview ?? {})) expect(entry).not.toHaveProperty('samples');
    }
    for (const sourcedId of sampled) expect(JSON.stringify(list.body)).not.toContain(sourcedId);

    const read = await request(app.url).get(`/api/v1/sis/runs/${held.id}`).set(bearer(token));
    expect(read.status).toBe(200);
    const named = await auditedStudents(String(read.headers['x-request-id']));
    expect(named).toEqual(expect.arrayContaining(await studentIdsOf(sampled)));
    const discarded = await request(app.url).post(`/api/v1/sis/runs/${held.id}/discard`).set(bearer(token));
    expect(discarded.status).toBe(200);
  });

  it('approving a held run applies it', async () => {
    const server = await district('approve');
    const connectionId = await connect(server);
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');
    const classes = server.dataset.classes.slice(0, 4).map((klass) => klass.sourcedId);
    server.removeRecords('classes', classes);
    const held = await syncAndWait(app.url, token, connectionId);
    expect(held.state).toBe('held');
    const approved = await request(app.url).post(`/api/v1/sis/runs/${held.id}/approve`).set(bearer(token));
    expect(approved.status).toBe(202);
    const applied = await waitForRun(app.url, token, held.id);
    expect(applied.state).toBe('succeeded');
    expect(applied.counts['classes']?.['deactivated']).toBe(4);
    const rows = await mirrorRows(app.databaseUrl, 'roster_classes', connectionId);
    expect(
      rows
        .filter((row) => row['status'] === 'inactive')
        .map((row) => row['sourced_id'])
        .sort(),
    ).toEqual([...classes].sort());
  });

  it('a held run whose staged change set PostgreSQL lost fails on approval and deactivates nothing', async () => {
    const server = await district('lost-change-set');
    const connectionId = await connect(server);
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');
    server.removeRecords(
      'classes',
      server.dataset.classes.slice(0, 4).map((klass) => klass.sourcedId),
    );
    const held = await syncAndWait(app.url, token, connectionId);
    expect(held.state).toBe('held');
    // What a crash or a failover does to the UNLOGGED staging table.
    const client = new pg.Client({ connectionString: app.databaseUrl });
    await client.connect();
    await client.query('TRUNCATE roster_staged_records').finally(() => client.end());

    await request(app.url).post(`/api/v1/sis/runs/${held.id}/approve`).set(bearer(token)).expect(202);
    const failed = await waitForRun(app.url, token, held.id);

    expect(failed).toMatchObject({ state: 'failed', errorCode: 'SIS_SYNC.CHANGE_SET_LOST' });
    expect(await activeCount(app.databaseUrl, 'roster_classes', connectionId)).toBe(server.dataset.classes.length + 4);
  });

  it('a dry run previews the change set without applying it', async () => {
    const server = await district('dry-run');
    const connectionId = await connect(server);
    const dry = await syncAndWait(app.url, token, connectionId, { dryRun: true });
    expect(dry.state).toBe('succeeded');
    expect(dry.dryRun).toBe(true);
    expect(dry.preview?.['people']?.['create']).toBe(server.dataset.users.length);
    expect(await activeCount(app.databaseUrl, 'roster_people', connectionId)).toBe(0);
  });

  it('a malformed page fails the run and deactivates nothing, even for records missing from the listing', async () => {
    const server = await district('malformed');
    const connectionId = await connect(server);
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');
    const enrollmentsBefore = await activeCount(app.databaseUrl, 'roster_enrollments', connectionId);

    server.removeRecords('users', [server.dataset.users[0].sourcedId]);
    server.injectFault({ kind: 'malformed-json', path: '/enrollments', skip: 1 });
    const failed = await syncAndWait(app.url, token, connectionId);
    server.clearFaults();
    expect(failed.state).toBe('failed');
    expect(failed.errorCode).toBe('SIS_SYNC.SOURCE_MALFORMED_PAGE');
    expect(failed.issueCount).toBeGreaterThan(0);
    expect(await activeCount(app.databaseUrl, 'roster_people', connectionId)).toBe(server.dataset.users.length + 1);
    expect(await activeCount(app.databaseUrl, 'roster_enrollments', connectionId)).toBe(enrollmentsBefore);

    const issues = await request(app.url)
      .get(`/api/v1/sis/runs/${failed.id}/issues`)
      .set(bearer(token))
      .set('Accept', 'text/csv');
    expect(issues.status).toBe(200);
    expect(issues.headers['content-type']).toMatch(/text\/csv/);
    expect(issues.text.split('\r\n')[0]).toBe('entity,sourcedId,field,severity,message');
  });

  it('rides out 429s and 500s, and a token that expires mid-paging', async () => {
    const server = await district('faults');
    const connectionId = await connect(server);
    server.injectFault({ kind: 'rate-limit', retryAfterSeconds: 1, path: '/users', times: 1 });
    server.injectFault({ kind: 'server-error', status: 503, path: '/classes', times: 2 });
    server.injectFault({ kind: 'token-expiry', afterRequests: 5 });
    const run = await syncAndWait(app.url, token, connectionId);
    server.clearFaults();
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    expect(run.counts['people']?.['created']).toBe(server.dataset.users.length);
    expect(server.tokensIssued).toBeGreaterThan(1);
  });

  it('an empty listing never deactivates anything', async () => {
    const server = await district('empty');
    const connectionId = await connect(server);
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');
    const enrollments = await activeCount(app.databaseUrl, 'roster_enrollments', connectionId);
    server.removeRecords(
      'enrollments',
      server.dataset.enrollments.map((enrollment) => enrollment.sourcedId),
    );
    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.state).toBe('succeeded');
    expect(await activeCount(app.databaseUrl, 'roster_enrollments', connectionId)).toBe(enrollments);
  });

  it('a record the page holds but that cannot be read is reported and kept as it is, never deactivated as absent', async () => {
    const server = await district('bad-record');
    const connectionId = await connect(server);
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');
    const enrolled = server.dataset.users.filter(
      (user) =>
        user.roles.some((role) => role.role === 'student') &&
        server.dataset.enrollments.some((enrollment) => enrollment.userSourcedId === user.sourcedId),
    );
    const broken = enrolled.slice(0, 2).map((user) => user.sourcedId);
    const peopleBefore = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    const enrollmentsBefore = await mirrorRows(app.databaseUrl, 'roster_enrollments', connectionId);
    server.updateRecords('users', broken, (user) => {
      user.givenName = '';
    });
    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.state, JSON.stringify(run)).toBe('succeeded_with_issues');
    expect(totals(run, 'deactivated')).toBe(0);
    expect(await mirrorRows(app.databaseUrl, 'roster_people', connectionId)).toEqual(peopleBefore);
    expect(await mirrorRows(app.databaseUrl, 'roster_enrollments', connectionId)).toEqual(enrollmentsBefore);
    const issues = await request(app.url).get(`/api/v1/sis/runs/${run.id}/issues`).set(bearer(token));
    for (const sourcedId of broken) {
      expect(issues.body).toContainEqual(
        expect.objectContaining({ entity: 'people', sourcedId, field: 'givenName', severity: 'error' }),
      );
    }
  });

  it('a listing whose users mostly cannot be read is held in review with the rejected share, applying nothing', async () => {
    const server = await district('mostly-rejected');
    const connectionId = await connect(server);
    const users = server.dataset.users.map((user) => user.sourcedId);
    const broken = users.slice(0, Math.ceil(users.length / 2));
    server.updateRecords('users', broken, (user) => {
      user.givenName = '';
    });
    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.state, JSON.stringify(run)).toBe('held');
    const percent = Math.round((broken.length / users.length) * 1000) / 10;
    expect(run.holdReasons).toEqual([
      expect.objectContaining({ kind: 'rejected', entity: 'people', count: broken.length, percent }),
    ]);
    expect(run.counts['people']).toMatchObject({ pulled: users.length, rejected: broken.length });
    expect(await activeCount(app.databaseUrl, 'roster_orgs', connectionId)).toBe(0);
    expect(await activeCount(app.databaseUrl, 'roster_people', connectionId)).toBe(0);
    await request(app.url).post(`/api/v1/sis/runs/${run.id}/discard`).set(bearer(token)).expect(200);
  });

  it('a person who leaves the listing takes their still-listed enrollments along: none stays active', async () => {
    const server = await district('person-cascade');
    const connectionId = await connect(server);
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');
    const student = server.dataset.users.find(
      (user) =>
        user.roles.some((role) => role.role === 'student') &&
        server.dataset.enrollments.some((enrollment) => enrollment.userSourcedId === user.sourcedId),
    )!;
    const enrollments = server.dataset.enrollments
      .filter((enrollment) => enrollment.userSourcedId === student.sourcedId)
      .map((enrollment) => enrollment.sourcedId);
    // The SIS drops the user but (as some do) keeps listing their enrollments.
    server.removeRecords('users', [student.sourcedId]);
    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    expect(run.counts['people']?.['deactivated']).toBe(1);
    expect(run.counts['enrollments']?.['deactivated']).toBe(enrollments.length);
    const rows = await mirrorRows(app.databaseUrl, 'roster_enrollments', connectionId);
    expect(
      rows
        .filter((row) => row['status'] === 'inactive')
        .map((row) => row['sourced_id'])
        .sort(),
    ).toEqual([...enrollments].sort());
    const orphans = await sql(
      app.databaseUrl,
      `SELECT e.sourced_id FROM roster_enrollments e
         JOIN roster_people p ON p.connection_id = e.connection_id AND p.sourced_id = e.user_sourced_id
        WHERE e.connection_id = $1 AND e.status = 'active' AND p.status <> 'active'`,
      [connectionId],
    );
    expect(orphans).toEqual([]);

    // The person comes back: so do their enrollments, still listed.
    server.addRecords('users', [{ ...student, status: 'active' }]);
    const back = await syncAndWait(app.url, token, connectionId);
    expect(back.state, JSON.stringify(back)).toBe('succeeded');
    expect(back.counts['people']?.['restored']).toBe(1);
    expect(back.counts['enrollments']?.['restored']).toBe(enrollments.length);
  });

  it('a page past SIS_MAX_RESPONSE_BYTES fails the run after one request, with memory bounded (README: < 400 MB peak)', async () => {
    const server = await district('huge-page');
    // Time enough to stream past the limit on a busy machine: the limit, not the timeout, must end the request.
    const connectionId = await connect(server, { requestTimeoutMs: 60_000 });
    // 700 MB: past V8's longest string, which used to be read whole and then retried as a network error.
    server.injectFault({ kind: 'huge-body', path: /\/users$/, bytes: 700 * 1024 ** 2 });
    global.gc?.();
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
    let run;
    try {
      run = await syncAndWait(app.url, token, connectionId);
    } finally {
      clearInterval(sampler);
    }
    expect(run.state, JSON.stringify(run)).toBe('failed');
    expect(run.errorCode, JSON.stringify(run)).toBe('SIS_SYNC.SOURCE_RESPONSE_TOO_LARGE');
    expect(server.dataRequests('users')).toHaveLength(1);
    expect(await activeCount(app.databaseUrl, 'roster_people', connectionId)).toBe(0);
    // The API, worker and fake SIS of this test process together: the 64 MiB default limit keeps it bounded.
    expect(peak - baseline).toBeLessThan(300 * 1024 ** 2);
  }, 120_000);

  it('records an enrollment to an unknown class as an issue and applies the rest', async () => {
    const server = await district('unresolved');
    const connectionId = await connect(server);
    const orphan = server.dataset.enrollments[0];
    server.updateRecords('enrollments', [orphan.sourcedId], (enrollment) => {
      enrollment.classSourcedId = 'no-such-class';
    });
    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.state).toBe('succeeded_with_issues');
    expect(run.counts['enrollments']?.['skipped']).toBe(1);
    expect(run.counts['enrollments']?.['created']).toBe(server.dataset.enrollments.length - 1);
    const issues = await request(app.url).get(`/api/v1/sis/runs/${run.id}/issues`).set(bearer(token));
    expect(issues.body).toContainEqual(
      expect.objectContaining({ entity: 'enrollments', sourcedId: orphan.sourcedId, field: 'classSourcedId' }),
    );
  });

  it('merges OneRoster 1.1 per-role users of Infinite Campus into one person', async () => {
    const server = await district('ic11', { ic11RolePrefixedIds: true });
    const teacher = server.dataset.users.find((user) => user.roles.some((role) => role.role === 'teacher'))!;
    teacher.roles.push({ ...teacher.roles[0], roleType: 'secondary', role: 'parent' });
    const connectionId = await connect(server, {
      version: '1.1',
      vendor: 'infinite-campus',
      peakHours: null,
      concurrency: 2,
    });
    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    expect(run.counts['people']?.['merged']).toBeGreaterThanOrEqual(1);
    const people = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    const known = new Set(people.map((row) => row['sourced_id']));
    const agents = people.flatMap((row) => row['agent_sourced_ids'] as string[]);
    expect(agents.length).toBeGreaterThan(0);
    expect(agents.filter((agent) => !known.has(agent))).toEqual([]);
    expect(people).toHaveLength(server.dataset.users.length);
    const multiRole = server.dataset.users.find((user) => new Set(user.roles.map((role) => role.role)).size > 1);
    expect(multiRole).toBeDefined();
    const merged = people.find((row) => row['sourced_id'] === multiRole!.sourcedId);
    expect((merged?.['roles'] as { role: string }[]).map((role) => role.role).sort()).toEqual(
      [...new Set(multiRole!.roles.map((role) => (role.role === 'parent' ? 'parent' : role.role)))].sort(),
    );
    expect(await activeCount(app.databaseUrl, 'roster_enrollments', connectionId)).toBe(
      server.dataset.enrollments.length,
    );
  });

  it('holds an Infinite Campus id remap instead of replacing everyone, and approving keeps local ids', async () => {
    const server = await district('ic-remap', { icLegacySourceIdMetadata: true });
    const connectionId = await connect(server, { vendor: 'infinite-campus', peakHours: null });
    expect((await syncAndWait(app.url, token, connectionId)).state).toBe('succeeded');
    const before = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    const remap = server.remapUserIds((id) => `v12-${id}`);

    const held = await syncAndWait(app.url, token, connectionId);
    expect(held.state).toBe('held');
    expect(held.holdReasons).toContainEqual(expect.objectContaining({ kind: 'id_remap', count: before.length }));
    expect(await activeCount(app.databaseUrl, 'roster_people', connectionId)).toBe(before.length);

    await request(app.url).post(`/api/v1/sis/runs/${held.id}/approve`).set(bearer(token)).expect(202);
    const applied = await waitForRun(app.url, token, held.id);
    expect(applied.state, JSON.stringify(applied)).toMatch(/^succeeded/);
    expect(applied.counts['people']?.['created'] ?? 0).toBe(0);
    expect(applied.counts['people']?.['remapped']).toBe(before.length);
    const after = await mirrorRows(app.databaseUrl, 'roster_people', connectionId);
    expect(after.filter((row) => row['status'] === 'active')).toHaveLength(before.length);
    for (const person of before) {
      const moved = after.find((row) => row['id'] === person['id']);
      expect(moved?.['sourced_id']).toBe(remap.get(person['sourced_id'] as string));
    }
  });

  it('cancels a queued or pulling run and refuses unknown runs and other roles', async () => {
    const server = await district('cancel');
    const connectionId = await connect(server);
    server.injectFault({ kind: 'slow', delayMs: 400 });
    const runId = await startRun(app.url, token, connectionId);
    const cancelled = await request(app.url).post(`/api/v1/sis/runs/${runId}/cancel`).set(bearer(token));
    expect(cancelled.status).toBe(202);
    const run = await waitForRun(app.url, token, runId);
    server.clearFaults();
    expect(run.state).toBe('cancelled');
    expect(await activeCount(app.databaseUrl, 'roster_orgs', connectionId)).toBe(0);

    await request(app.url).get('/api/v1/sis/runs/00000000-0000-4000-8000-000000000000').set(bearer(token)).expect(404);
    await request(app.url).get('/api/v1/sis/runs/not-a-uuid').set(bearer(token)).expect(400);
    await request(app.url).get('/api/v1/sis/runs?cursor=garbage').set(bearer(token)).expect(400);
    await request(app.url).get('/api/v1/sis/runs').expect(401);
  });
});
