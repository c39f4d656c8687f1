import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login } from '../support/auth.js';
import { decodeJwt, signJwt } from '../support/jwt.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, bootTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app.js';

describe('authentication', () => {
  let testApp: TestApp;
  let url: string;

  beforeAll(async () => {
    testApp = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000' } });
    url = testApp.url;
  });
  afterAll(async () => {
    await testApp.close();
  });

  async function createUser(email: string, roles: string[] = ['teacher']): Promise<string> {
    const admin = await login(url);
    const response = await request(url)
      .post('/api/v1/users')
      .set(bearer(admin.accessToken))
      .send({ email, displayName: email, password: 'a-long-enough-password', roles });
    expect(response.status).toBe(201);
    return response.body.id as string;
  }

  it('signs in and returns a token pair; me describes the caller', async () => {
    const tokens = await login(url);
    expect(tokens.expiresIn).toBe(900);
    const claims = decodeJwt(tokens.accessToken);
    expect(claims).toMatchObject({ iss: 'homeroom', aud: 'homeroom-api' });
    expect((claims['exp'] as number) - (claims['iat'] as number)).toBe(900);
    const me = await request(url).get('/api/v1/auth/me').set(bearer(tokens.accessToken));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: ADMIN_EMAIL, roles: ['district_admin'] });
    expect(JSON.stringify(me.body)).not.toMatch(/password/i);
  });

  it('answers a wrong password and an unknown email alike', async () => {
    const wrong = await request(url)
      .post('/api/v1/auth/login')
      .send({ email: ADMIN_EMAIL, password: 'not-the-password' });
    const unknown = await request(url)
      .post('/api/v1/auth/login')
      .send({ email: 'nobody@district.test', password: 'not-the-password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.code).toBe('IDENTITY.INVALID_CREDENTIALS');
    expect(unknown.body.code).toBe('IDENTITY.INVALID_CREDENTIALS');
    expect(wrong.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('rotates refresh tokens, and reuse of a rotated one revokes the whole session', async () => {
    const first = await login(url);
    const rotated = await request(url).post('/api/v1/auth/refresh').send({ refreshToken: first.refreshToken });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(first.refreshToken);
    expect((await request(url).get('/api/v1/auth/me').set(bearer(rotated.body.accessToken))).status).toBe(200);

    const reuse = await request(url).post('/api/v1/auth/refresh').send({ refreshToken: first.refreshToken });
    expect(reuse.status).toBe(401);
    expect(reuse.body.code).toBe('IDENTITY.REFRESH_TOKEN_REUSED');

    // The legitimate successor and every access token of that sign-in are dead too.
    const successor = await request(url).post('/api/v1/auth/refresh').send({ refreshToken: rotated.body.refreshToken });
    expect(successor.status).toBe(401);
    expect((await request(url).get('/api/v1/auth/me').set(bearer(rotated.body.accessToken))).status).toBe(401);
    expect((await request(url).get('/api/v1/auth/me').set(bearer(first.accessToken))).status).toBe(401);
  });

  it('refuses an unknown refresh token', async () => {
    const response = await request(url)
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: 'x'.repeat(43) });
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('IDENTITY.REFRESH_TOKEN_INVALID');
  });

  it('logout ends the session at once, for access and refresh tokens', async () => {
    const tokens = await login(url);
    const other = await login(url);
    const logout = await request(url).post('/api/v1/auth/logout').set(bearer(tokens.accessToken));
    expect(logout.status).toBe(204);
    expect((await request(url).get('/api/v1/auth/me').set(bearer(tokens.accessToken))).status).toBe(401);
    expect((await request(url).post('/api/v1/auth/refresh').send({ refreshToken: tokens.refreshToken })).status).toBe(
      401,
    );
    // Other sessions of the same user are unaffected.
    expect((await request(url).get('/api/v1/auth/me').set(bearer(other.accessToken))).status).toBe(200);
  });

  it('locks an account after five failures, even for the right password', async () => {
    await createUser('locked@district.test');
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      const response = await request(url)
        .post('/api/v1/auth/login')
        .send({ email: 'locked@district.test', password: 'wrong-password-guess' });
      expect(response.body.code).toBe('IDENTITY.INVALID_CREDENTIALS');
    }
    const fifth = await request(url)
      .post('/api/v1/auth/login')
      .send({ email: 'locked@district.test', password: 'wrong-password-guess' });
    expect(fifth.status).toBe(401);
    expect(fifth.body.code).toBe('IDENTITY.ACCOUNT_LOCKED');
    expect(fifth.body.retryAfterSeconds).toBeGreaterThan(14 * 60);
    const right = await request(url)
      .post('/api/v1/auth/login')
      .send({ email: 'locked@district.test', password: 'a-long-enough-password' });
    expect(right.status).toBe(401);
    expect(right.body.code).toBe('IDENTITY.ACCOUNT_LOCKED');
  });

  it('invalidates existing tokens when an administrator disables the user or changes their roles', async () => {
    const id = await createUser('changing@district.test');
    const before = await login(url, 'changing@district.test', 'a-long-enough-password');
    const admin = await login(url);
    const promote = await request(url)
      .patch(`/api/v1/users/${id}`)
      .set(bearer(admin.accessToken))
      .send({ roles: ['teacher', 'school_admin'] });
    expect(promote.status).toBe(200);
    expect((await request(url).get('/api/v1/auth/me').set(bearer(before.accessToken))).status).toBe(401);

    const after = await login(url, 'changing@district.test', 'a-long-enough-password');
    const me = await request(url).get('/api/v1/auth/me').set(bearer(after.accessToken));
    expect(me.body.roles).toEqual(['teacher', 'school_admin']);

    await request(url).patch(`/api/v1/users/${id}`).set(bearer(admin.accessToken)).send({ disabled: true }).expect(200);
    expect((await request(url).get('/api/v1/auth/me').set(bearer(after.accessToken))).status).toBe(401);
    expect((await request(url).post('/api/v1/auth/refresh').send({ refreshToken: after.refreshToken })).status).toBe(
      401,
    );
    const disabledLogin = await request(url)
      .post('/api/v1/auth/login')
      .send({ email: 'changing@district.test', password: 'a-long-enough-password' });
    expect(disabledLogin.status).toBe(401);
  });

  describe('forged and stale access tokens', () => {
    let claims: Record<string, unknown>;

    beforeAll(async () => {
      claims = decodeJwt((await login(url)).accessToken);
    });

    const now = () => Math.floor(Date.now() / 1000);
    const cases: [string, () => string][] = [
      ['alg none', () => signJwt({ ...claims }, TEST_JWT_SECRET, { alg: 'none' })],
      ['wrong key', () => signJwt({ ...claims }, 'another-secret-that-is-long-enough-0123456789')],
      ['expired', () => signJwt({ ...claims, iat: now() - 3600, nbf: now() - 3600, exp: now() - 60 }, TEST_JWT_SECRET)],
      [
        'tampered payload',
        () => {
          const genuine = signJwt({ ...claims }, TEST_JWT_SECRET).split('.');
          const forged = Buffer.from(JSON.stringify({ ...claims, roles: ['district_admin', 'compliance_officer'] }));
          return `${genuine[0]}.${forged.toString('base64url')}.${genuine[2]}`;
        },
      ],
      ['foreign issuer', () => signJwt({ ...claims, iss: 'evil-idp' }, TEST_JWT_SECRET)],
      ['wrong audience', () => signJwt({ ...claims, aud: 'another-api' }, TEST_JWT_SECRET)],
      ['not yet valid', () => signJwt({ ...claims, nbf: now() + 3600 }, TEST_JWT_SECRET)],
      ['HS512 instead of HS256', () => signJwt({ ...claims }, TEST_JWT_SECRET, { alg: 'HS512' })],
      ['stale token version', () => signJwt({ ...claims, ver: 0 }, TEST_JWT_SECRET)],
      ['unknown session', () => signJwt({ ...claims, sid: '00000000-0000-4000-8000-000000000000' }, TEST_JWT_SECRET)],
      ['garbage', () => 'not.a.jwt'],
    ];

    it.each(cases)('%s → 401 problem', async (_label, forge) => {
      const response = await request(url).get('/api/v1/auth/me').set(bearer(forge()));
      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.body.code).toBe('IDENTITY.TOKEN_INVALID');
    });

    it('a genuine copy of the same claims works (so the cases above fail for their own reason)', async () => {
      const response = await request(url)
        .get('/api/v1/auth/me')
        .set(bearer(signJwt({ ...claims }, TEST_JWT_SECRET)));
      expect(response.status).toBe(200);
    });

    it('no token → 401', async () => {
      expect((await request(url).get('/api/v1/auth/me')).status).toBe(401);
    });
  });
});

describe('per-IP rate limit on the auth routes', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '3' } });
  });
  afterAll(async () => {
    await testApp.close();
  });

  it('answers 429 with Retry-After once the limit is used up, but leaves other routes alone', async () => {
    const statuses: number[] = [];
    let last: request.Response | undefined;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      last = await request(testApp.url)
        .post('/api/v1/auth/login')
        .send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    expect(last!.body.code).toBe('HTTP.RATE_LIMITED');
    expect((await request(testApp.url).get('/health/live')).status).toBe(200);
  });
});
