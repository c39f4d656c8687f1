import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOneRosterServer, generateDistrict } from '../fakes/oneroster/index.js';
import { bearer, login } from '../support/auth.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';
import { createOneRosterConnection, sql, syncAndWait } from './sync-support.js';

/** GET /sis/runs/{id}/issues streams like the audit export: the shared CSV writer and the shared streamed body. */
describe('the sync run issues export', () => {
  let app: TestApp;
  let token: string;
  let server: FakeOneRosterServer;
  let runId: string;

  beforeAll(async () => {
    app = await bootTestApp();
    token = (await login(app.url)).accessToken;
    server = new FakeOneRosterServer({
      dataset: generateDistrict({ seed: 'issues-export', schools: 1, students: 5, teachers: 1, classes: 1 }),
      auth: { kind: 'oauth2', clientId: 'homeroom', clientSecret: 'fake-secret' },
    });
    await server.start();
    const connectionId = await createOneRosterConnection(app.url, token, {
      name: 'issues export district',
      baseUrl: server.baseUrlFor('1.2'),
      auth: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'homeroom', clientSecret: 'fake-secret' },
    });
    const run = await syncAndWait(app.url, token, connectionId);
    expect(run.state, JSON.stringify(run)).toBe('succeeded');
    runId = run.id;
  });

  afterAll(async () => {
    await server?.stop();
    await app?.close();
  });

  async function replaceIssues(rows: string): Promise<void> {
    await sql(app.databaseUrl, 'DELETE FROM sis_sync_run_issues WHERE run_id = $1', [runId]);
    await sql(app.databaseUrl, rows, [runId]);
  }

  it('neutralises cells a spreadsheet would read as a formula, tab and carriage return included', async () => {
    await replaceIssues(`INSERT INTO sis_sync_run_issues (run_id, entity, sourced_id, field, severity, message)
      VALUES ($1, 'users', E'\\tu-1', 'email', 'warning', E'\\t=1+2'),
             ($1, 'users', 'u-2', E'\\rfield', 'warning', E'\\r=1+2'),
             ($1, 'users', 'u-3', 'email', 'warning', '=HYPERLINK("http://x")')`);
    const csv = await request(app.url).get(`/api/v1/sis/runs/${runId}/issues`).set(bearer(token)).accept('text/csv');
    expect(csv.status).toBe(200);
    expect(csv.text).toBe(
      'entity,sourcedId,field,severity,message\r\n' +
        `users,'\tu-1,email,warning,'\t=1+2\r\n` +
        `users,u-2,"'\rfield",warning,"'\r=1+2"\r\n` +
        `users,u-3,email,warning,"'=HYPERLINK(""http://x"")"\r\n`,
    );
  });

  it('a client that leaves mid-stream does not stall the app, and the next export is whole', async () => {
    const issues = 4000;
    await replaceIssues(`INSERT INTO sis_sync_run_issues (run_id, entity, sourced_id, field, severity, message)
      SELECT $1, 'users', 'u-' || n, 'email', 'warning', repeat('m', 2000) FROM generate_series(1, ${issues}) n`);
    const url = new URL(`/api/v1/sis/runs/${runId}/issues`, app.url);
    // Read the first chunk, then cut the connection while the server still has megabytes to send.
    const received = await new Promise<number>((resolve, reject) => {
      const client = httpRequest(url, { headers: { ...bearer(token), Accept: 'text/csv' } }, (response) => {
        expect(response.statusCode).toBe(200);
        let bytes = 0;
        response.once('data', (chunk: Buffer) => {
          bytes += chunk.length;
          response.pause();
          client.destroy();
        });
        client.once('close', () => resolve(bytes));
      });
      client.on('error', () => undefined);
      client.once('timeout', () => reject(new Error('no response')));
      client.end();
    });
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(issues * 2000);

    const json = await request(app.url).get(`/api/v1/sis/runs/${runId}/issues`).set(bearer(token));
    expect(json.status).toBe(200);
    expect(json.body).toHaveLength(issues);
    const csv = await request(app.url).get(`/api/v1/sis/runs/${runId}/issues`).set(bearer(token)).accept('text/csv');
    expect(csv.status).toBe(200);
    expect(csv.text.split('\r\n')).toHaveLength(issues + 2);
  });
});
