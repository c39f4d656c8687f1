import { createTestDatabase, type TestDatabase } from '@app/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOneRosterServer, generateDistrict } from '../fakes/oneroster/index.js';
import { bearer } from '../support/auth.js';
import {
  concurrentReads,
  embeddedPostmasterPid,
  processRunning,
  READ_PATHS,
  startServiceProcess,
  stopServiceProcess,
  type ServiceProcess,
} from '../support/service-process.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../support/test-app.js';
import { createOneRosterConnection, startRun, waitForRun, type RunView } from './sync-support.js';

const SERVICE_ENV = {
  HOMEROOM_ADMIN_EMAIL: ADMIN_EMAIL,
  HOMEROOM_ADMIN_PASSWORD: ADMIN_PASSWORD,
  API_RATE_LIMIT_PER_MINUTE: '1000000',
  API_USER_RATE_LIMIT_PER_MINUTE: '1000000',
  AUTH_RATE_LIMIT_PER_MINUTE: '10000',
};

interface LoadedSync {
  run: RunView;
  ms: number;
  statuses: Record<number, number>;
}

async function adminToken(url: string): Promise<string> {
  const response = await request(url).post('/api/v1/auth/login').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return (response.body as { accessToken: string }).accessToken;
}

/**
 * A full sync while 8 clients keep reading (the fresh-clone check's reads) and checkpoints are signed on demand
 * beside the schedule: how long the run took, and every status the readers got.
 */
async function fullSyncUnderLoad(url: string, token: string, server: FakeOneRosterServer): Promise<LoadedSync> {
  const connectionId = await createOneRosterConnection(url, token, {
    name: 'district under load',
    baseUrl: server.baseUrlFor('1.2'),
    auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'fake-secret' },
    pageSize: 200,
    requestTimeoutMs: 30_000,
  });
  const statuses: Record<number, number> = {};
  let settled = false;
  const load = (async () => {
    while (!settled) {
      const round = await concurrentReads(url, token, READ_PATHS, 16, 8);
      for (const [status, count] of Object.entries(round))
        statuses[Number(status)] = (statuses[Number(status)] ?? 0) + count;
      const signed = await request(url).post('/api/v1/audit/checkpoints').set(bearer(token));
      statuses[signed.status] = (statuses[signed.status] ?? 0) + 1;
    }
  })();
  const started = Date.now();
  try {
    const run = await waitForRun(url, token, await startRun(url, token, connectionId), 240_000);
    return { run, ms: Date.now() - started, statuses };
  } finally {
    settled = true;
    await load;
  }
}

/** Resolves `leadMs` before the next minute starts, so the every-minute jobs fire while the sync runs. */
async function justBeforeTheMinute(leadMs: number): Promise<void> {
  const untilMinute = 60_000 - (Date.now() % 60_000);
  const wait = untilMinute > leadMs ? untilMinute - leadMs : untilMinute + 60_000 - leadMs;
  await new Promise((resolve) => setTimeout(resolve, wait));
}

/**
 * The embedded default runs the server mode's sync engine (same SQL, same write lanes) on its own PostgreSQL:
 * under concurrent reads and the every-minute audit jobs it answers no 5xx and is not much slower than a
 * PostgreSQL server on this machine, stops on SIGTERM, and a second start on the same data directory sees the data.
 */
describe('roster sync on the embedded default, under load', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'homeroom-embedded-sync-'));
  const server = new FakeOneRosterServer({
    dataset: generateDistrict({ seed: 'embedded', schools: 3, students: 1200, teachers: 60, classes: 150 }),
    auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: 'fake-secret' },
  });
  let serverDatabase: TestDatabase | undefined;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    await server.start();
  });

  afterAll(async () => {
    if (service) await stopServiceProcess(service, 'SIGKILL');
    await serverDatabase?.drop();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('syncs within 1.5× the server mode with no 5xx, stops on SIGTERM, and restarts onto the same data', async () => {
    serverDatabase = await createTestDatabase('embedded_compare');
    service = await startServiceProcess(join(dataDir, 'server-mode'), {
      ...SERVICE_ENV,
      DATABASE_URL: serverDatabase.url,
    });
    const onServer = await fullSyncUnderLoad(service.url, await adminToken(service.url), server);
    await stopServiceProcess(service);
    service = undefined;
    expect(onServer.run.state, JSON.stringify(onServer.run)).toBe('succeeded');

    const embeddedDir = join(dataDir, 'embedded');
    service = await startServiceProcess(embeddedDir, SERVICE_ENV);
    const token = await adminToken(service.url);
    await justBeforeTheMinute(3_000);
    const embedded = await fullSyncUnderLoad(service.url, token, server);
    expect(embedded.run.state, JSON.stringify(embedded.run)).toBe('succeeded');
    expect(embedded.run.counts['people']?.['created']).toBe(server.dataset.users.length);
    expect(embedded.run.counts['enrollments']?.['created']).toBe(server.dataset.enrollments.length);
    // Every read answered, none with a 5xx or a reset; checkpoints were signed (201) or not yet due (200).
    expect(Object.keys(embedded.statuses).filter((status) => !['200', '201'].includes(status))).toEqual([]);
    expect(Object.keys(onServer.statuses).filter((status) => !['200', '201'].includes(status))).toEqual([]);
    console.info(
      `full sync of ${server.dataset.users.length} users under load: server mode ${onServer.ms} ms, ` +
        `embedded default ${embedded.ms} ms; reads ${JSON.stringify(embedded.statuses)}`,
    );
    // 1.5× the server mode measured just now, plus 3 s for a machine shared with other test runs.
    expect(embedded.ms, `embedded ${embedded.ms} ms, server ${onServer.ms} ms`).toBeLessThanOrEqual(
      onServer.ms * 1.5 + 3_000,
    );

    const postmaster = embeddedPostmasterPid(embeddedDir)!;
    const stoppedIn = await stopServiceProcess(service);
    expect(service.child.exitCode).toBe(0);
    expect(stoppedIn).toBeLessThan(10_000);
    expect(processRunning(postmaster)).toBe(false);
    service = undefined;

    service = await startServiceProcess(embeddedDir, SERVICE_ENV);
    const again = await adminToken(service.url);
    const run = await request(service.url).get(`/api/v1/sis/runs/${embedded.run.id}`).set(bearer(again));
    expect(run.status).toBe(200);
    expect((run.body as RunView).state).toBe('succeeded');
    // Trigram search (pg_trgm) on the embedded server: a misspelt, unaccented name finds the student.
    const search = await request(service.url)
      .get('/api/v1/students')
      .query({ search: 'jose nunes' })
      .set(bearer(again));
    expect(search.status).toBe(200);
    expect((search.body as { items: { givenName: string }[] }).items.map((student) => student.givenName)).toContain(
      'José',
    );
  }, 600_000);
});
