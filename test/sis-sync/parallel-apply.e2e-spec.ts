import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOneRosterServer, generateDistrict } from '../fakes/oneroster/index.js';
import { login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { createOneRosterConnection, getRun, mirrorSnapshot, sql, syncAndWait, type RunView } from './sync-support.js';

interface Deployment {
  app: TestApp;
  token: string;
  connectionId: string;
}

/**
 * The apply phase runs several chunks of an entity at once (SIS_SYNC_WRITE_LANES), committing them in order. A
 * deployment applying many tiny chunks three at a time must end every sync exactly as one applying each entity
 * in one chunk does: same mirror, same counts, same issues, and a checkpoint at the last chunk.
 */
describe('sync apply in parallel lanes', { timeout: 120_000 }, () => {
  const server = new FakeOneRosterServer({
    dataset: generateDistrict({ seed: 'parallel-apply', schools: 2, students: 40, teachers: 5, classes: 8 }),
    auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: 'fake-secret' },
  });
  let lanes: Deployment;
  let single: Deployment;

  async function deploy(env: Record<string, string>, databaseUrl?: string, redis = false): Promise<Deployment> {
    const app = await bootTestApp({ env, databaseUrl, redis });
    const token = (await login(app.url)).accessToken;
    const connectionId = await createOneRosterConnection(app.url, token, {
      name: `District SIS ${Object.keys(env).length}`,
      baseUrl: server.baseUrlFor('1.2'),
      auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'fake-secret' },
      // Rules without bounds: the mass changes below are applied, not held.
      thresholds: { '*': { deactivate: {}, update: {} } },
    });
    return { app, token, connectionId };
  }

  async function syncBoth(): Promise<[RunView, RunView]> {
    const parallel = await syncAndWait(lanes.app.url, lanes.token, lanes.connectionId);
    const serial = await syncAndWait(single.app.url, single.token, single.connectionId);
    return [parallel, serial];
  }

  async function expectSameOutcome(parallel: RunView, serial: RunView): Promise<void> {
    expect(parallel.state).toBe(serial.state);
    expect(parallel.counts).toEqual(serial.counts);
    expect(parallel.issueCount).toBe(serial.issueCount);
    expect(await mirrorSnapshot(lanes.app.databaseUrl, lanes.connectionId)).toEqual(
      await mirrorSnapshot(single.app.databaseUrl, single.connectionId),
    );
  }

  beforeAll(async () => {
    await server.start();
    // Each app must run its own runs: on one database both would take jobs from the same PostgreSQL queue, so
    // the parallel app queues through Redis and the single-lane one through PostgreSQL.
    lanes = await deploy(
      { SIS_SYNC_APPLY_CHUNK_SIZE: '7', SIS_SYNC_WRITE_LANES: '3', DATABASE_POOL_MAX: '8' },
      undefined,
      true,
    );
    single = await deploy({ SIS_SYNC_WRITE_LANES: '1' }, lanes.app.databaseUrl);
  }, 60_000);

  afterAll(async () => {
    await single?.app.close();
    await lanes?.app.close();
    await server.stop();
  });

  it('mirrors a first sync, a rerun and a round of changes exactly as a one-chunk apply does', async () => {
    server.addRecords('enrollments', [
      {
        sourcedId: 'enr-to-nowhere',
        status: 'active',
        role: 'student',
        primary: false,
        beginDate: null,
        endDate: null,
        userSourcedId: server.dataset.users[0].sourcedId,
        classSourcedId: 'class-that-does-not-exist',
        schoolSourcedId: server.dataset.orgs.find((org) => org.type === 'school')!.sourcedId,
      },
    ]);
    const [first, firstSerial] = await syncBoth();
    expect(first.state).toBe('succeeded_with_issues');
    expect(first.counts['enrollments']).toMatchObject({ skipped: 1 });
    expect(first.counts['enrollments']['created']).toBeGreaterThan(7 * 10);
    await expectSameOutcome(first, firstSerial);

    const [rerun, rerunSerial] = await syncBoth();
    for (const counts of Object.values(rerun.counts)) {
      expect(counts).toMatchObject({ created: 0, updated: 0, restored: 0, deactivated: 0 });
    }
    await expectSameOutcome(rerun, rerunSerial);

    const users = server.dataset.users.filter((_, index) => index % 3 === 0).map((user) => user.sourcedId);
    server.updateRecords('users', users, (user) => {
      user.familyName += '-Renamed';
    });
    const dropped = server.dataset.enrollments.filter((_, index) => index % 4 === 0).map((item) => item.sourcedId);
    server.removeRecords('enrollments', dropped);
    const [changed, changedSerial] = await syncBoth();
    expect(changed.counts['people']).toMatchObject({ updated: users.length });
    expect(changed.counts['enrollments']).toMatchObject({ deactivated: dropped.length });
    await expectSameOutcome(changed, changedSerial);

    const details = await getRun(lanes.app.url, lanes.token, changed.id);
    expect(details.attempt).toBe(1);
    const [checkpoint] = await sql<{ checkpoint: unknown }>(
      lanes.app.databaseUrl,
      'SELECT checkpoint FROM sis_sync_runs WHERE id = $1',
      [changed.id],
    );
    expect(checkpoint?.checkpoint).toEqual({ phase: 'done' });
  });
});
