import { createTestDatabase, type TestDatabase } from '@app/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login } from '../support/auth.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { bootTestApp, type TestApp } from '../support/test-app.js';

/**
 * PostgreSQL goes away under the running app (a relay in front of the machine's server is cut, so nobody else's
 * database is touched): callers are told the service is unavailable, never that their token is wrong, and the
 * app recovers by itself when the database comes back.
 */
describe('the database goes away and comes back', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let app: TestApp;
  let token: string;

  beforeAll(async () => {
    database = await createTestDatabase('outage');
    const target = new URL(database.url);
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
    app = await bootTestApp({ databaseUrl: proxy.rewrite(database.url), env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    token = (await login(app.url)).accessToken;
  });

  afterAll(async () => {
    await proxy?.restore();
    await app?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('answers 503 DATABASE.UNAVAILABLE to an authenticated call and 503 on /health/ready, then recovers', async () => {
    await request(app.url).get('/api/v1/auth/me').set(bearer(token)).expect(200);
    await request(app.url).get('/health/ready').expect(200);

    await proxy.cut();

    const me = await request(app.url).get('/api/v1/auth/me').set(bearer(token));
    expect(me.status, JSON.stringify(me.body)).toBe(503);
    expect(me.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(me.body).toMatchObject({ status: 503, code: 'DATABASE.UNAVAILABLE' });
    expect(JSON.stringify(me.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);

    const users = await request(app.url).get('/api/v1/users').set(bearer(token));
    expect(users.status, JSON.stringify(users.body)).toBe(503);
    expect(users.body.code).toBe('DATABASE.UNAVAILABLE');

    const signIn = await request(app.url)
      .post('/api/v1/auth/login')
      .send({ email: 'admin@district.test', password: 'not-the-password-at-all' });
    expect(signIn.status, JSON.stringify(signIn.body)).toBe(503);
    expect(signIn.body.code).toBe('DATABASE.UNAVAILABLE');

    const ready = await request(app.url).get('/health/ready');
    expect(ready.status, JSON.stringify(ready.body)).toBe(503);
    expect(ready.body).toMatchObject({ code: 'HEALTH.NOT_READY', checks: { database: 'down' } });
    expect((await request(app.url).get('/health/live')).status).toBe(200);

    await proxy.restore();

    const deadline = Date.now() + 20_000;
    for (;;) {
      const again = await request(app.url).get('/api/v1/auth/me').set(bearer(token));
      if (again.status === 200) break;
      if (Date.now() > deadline) throw new Error(`no recovery: ${again.status} ${JSON.stringify(again.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const recovered = await request(app.url).get('/health/ready');
    expect(recovered.status, JSON.stringify(recovered.body)).toBe(200);
    expect(recovered.body.info).toMatchObject({ database: { status: 'up' } });
  }, 60_000);
});
