import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeEnvironment } from '../../src/runtime-environment.js';
import { FakeOneRosterServer, generateDistrict } from '../fakes/oneroster/index.js';
import { bearer, login } from '../support/auth.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, TEST_JWT_SECRET } from '../support/test-app.js';
import { createOneRosterConnection, syncAndWait, totals } from './sync-support.js';

/**
 * The embedded default (PGlite in a child process, jobs in its PostgreSQL through pg-boss) runs the same sync engine: set-based
 * statements, trigram search and the unlogged staging table must all work there too.
 */
describe('roster sync on the embedded default', () => {
  let runtime: RuntimeEnvironment;
  let app: INestApplication;
  let url: string;
  let token: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'homeroom-embedded-sync-'));
  const server = new FakeOneRosterServer({
    dataset: generateDistrict({ seed: 'embedded', schools: 2, students: 30, teachers: 4, classes: 6 }),
    auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: 'fake-secret' },
  });

  beforeAll(async () => {
    // The compiled build: the embedded PostgreSQL child process is started from dist, as in production.
    const runtimeModule = '../../dist/src/runtime-environment.js';
    const httpAppModule = '../../dist/src/http-app.js';
    const { prepareRuntimeEnvironment } = (await import(
      runtimeModule
    )) as typeof import('../../src/runtime-environment.js');
    const { createHttpApp } = (await import(httpAppModule)) as typeof import('../../src/http-app.js');
    await server.start();
    runtime = await prepareRuntimeEnvironment({
      NODE_ENV: 'test',
      LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_PORT: '0',
      METRICS_HOST: '127.0.0.1',
      JWT_SECRET: TEST_JWT_SECRET,
      HOMEROOM_DATA_DIR: dataDir,
      HOMEROOM_ADMIN_EMAIL: ADMIN_EMAIL,
      HOMEROOM_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    expect(runtime.embeddedDatabase).toBeDefined();
    app = await createHttpApp(runtime, 'all');
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    token = (await login(url)).accessToken;
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await runtime?.stop();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('mirrors the district, changes nothing on a rerun, and finds students by a misspelt, unaccented name', async () => {
    const connectionId = await createOneRosterConnection(url, token, {
      name: 'embedded district',
      baseUrl: server.baseUrlFor('1.2'),
      auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'fake-secret' },
      pageSize: 20,
    });
    const first = await syncAndWait(url, token, connectionId);
    expect(first.state, JSON.stringify(first)).toBe('succeeded');
    expect(first.counts['people']?.['created']).toBe(server.dataset.users.length);
    expect(first.counts['enrollments']?.['created']).toBe(server.dataset.enrollments.length);

    const second = await syncAndWait(url, token, connectionId);
    expect(second.state).toBe('succeeded');
    expect(totals(second, 'created') + totals(second, 'updated') + totals(second, 'deactivated')).toBe(0);

    const search = await request(url).get('/api/v1/students').query({ search: 'jose nunes' }).set(bearer(token));
    expect(search.status).toBe(200);
    expect((search.body as { items: { givenName: string }[] }).items.map((student) => student.givenName)).toContain(
      'José',
    );
  });
});
