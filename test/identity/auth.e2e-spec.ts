import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, login } from '../support/auth.js';
import { decodeJwt, signJwt } from '../support/jwt.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, bootTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app.js';

describe('authentication', () => {
  let testApp: TestApp;
  let url: string;

  beforeAll(async () => {
    // The test client is the trusted proxy here, so X-Forwarded-For stands for different client addresses.
    testApp = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '1000', TRUSTED_PROXIES: '127.0.0.1' } });
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

  it('five concurrent refreshes with one token: exactly one wins, the others count as reuse and end the session', async () => {
    const first = await login(url);
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        request(url).post('/api/v1/auth/refresh').send({ refreshToken: first.refreshToken }),
      ),
    );
    expect(results.map((result) => result.status).sort()).toEqual([200, 401, 401, 401, 401]);
    expect(results.map((result) => result.body.code)).toContain('IDENTITY.REFRESH_TOKEN_REUSED');
    const winner = results.find((result) => result.status === 200)!;
    // Reuse was detected, so the winner's tokens belong to a revoked session.
    const next = await request(url).post('/api/v1/auth/refresh').send({ refreshToken: winner.body.refreshToken });
    expect(next.status).toBe(401);
    expect((await request(url).get('/api/v1/auth/me').set(bearer(winner.body.accessToken))).status).toBe(401);
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

  const attempt = (email: string, password: string, from: string) =>
    request(url).post('/api/v1/auth/login').set('X-Forwarded-For', from).send({ email, password });
  const shape = (response: request.Response) => ({
    status: response.status,
    code: response.body.code as unknown,
    keys: Object.keys(response.body as object).sort(),
    retryAfter: response.headers['retry-after'] !== undefined,
  });

  it('answers an unknown email exactly like a known one, also after many failures', async () => {
    await createUser('known@district.test');
    const known: ReturnType<typeof shape>[] = [];
    const unknown: ReturnType<typeof shape>[] = [];
    for (let round = 0; round < 7; round += 1) {
      known.push(shape(await attempt('known@district.test', 'wrong-password-guess', '203.0.113.10')));
      unknown.push(shape(await attempt('unknown@district.test', 'wrong-password-guess', '203.0.113.11')));
    }
    expect(unknown).toEqual(known);
    expect(known[0]).toMatchObject({ status: 401, code: 'IDENTITY.INVALID_CREDENTIALS' });
    expect(known.map((entry) => entry.code)).not.toContain('IDENTITY.ACCOUNT_LOCKED');
  }, 90_000);

  it('takes about as long for an unknown email as for a known one with a wrong password', async () => {
    await createUser('timing@district.test');
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const timed = async (email: string) => {
      const started = performance.now();
      const response = await attempt(email, 'wrong-password-guess', '203.0.113.12');
      expect(response.status).toBe(401);
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let round = 0; round < 4; round += 1) {
      known.push(await timed('timing@district.test'));
      unknown.push(await timed('nobody-at-all@district.test'));
    }
    const ratio = median(known) / median(unknown);
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
  }, 90_000);

  it("an attacker's wrong passwords slow their own address down but never keep the owner out", async () => {
    await createUser('targeted@district.test');
    const attacker: number[] = [];
    for (let round = 0; round < 7; round += 1) {
      attacker.push((await attempt('targeted@district.test', 'wrong-password-guess', '198.51.100.66')).status);
    }
    expect(attacker.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(attacker.slice(5)).toEqual([429, 429]);
    // The attacker's address stays refused for this account even with the right password…
    const blocked = await attempt('targeted@district.test', 'a-long-enough-password', '198.51.100.66');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // …while the owner, from their school's address, signs in.
    const owner = await attempt('targeted@district.test', 'a-long-enough-password', '192.0.2.40');
    expect(owner.status).toBe(200);
    expect(owner.body.accessToken).toEqual(expect.any(String));
  }, 90_000);

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
      ['no exp', () => signJwt({ ...claims, exp: undefined }, TEST_JWT_SECRET)],
      ['typ JWT instead of at+jwt', () => signJwt({ ...claims }, TEST_JWT_SECRET, { typ: 'JWT' })],
      ['no typ', () => signJwt({ ...claims }, TEST_JWT_SECRET, { typ: undefined })],
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

describe('rate limits', () => {
  let testApp: TestApp;
  let accessToken: string;

  beforeAll(async () => {
    // No trusted proxy: X-Forwarded-For from the client must be ignored.
    testApp = await bootTestApp({ env: { AUTH_RATE_LIMIT_PER_MINUTE: '3', API_USER_RATE_LIMIT_PER_MINUTE: '60' } });
  });
  afterAll(async () => {
    await testApp.close();
  });

  it('answers 429 with Retry-After once the per-address sign-in limit is used up, but leaves other routes alone', async () => {
    const statuses: number[] = [];
    let last: request.Response | undefined;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      last = await request(testApp.url)
        .post('/api/v1/auth/login')
        .send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
      statuses.push(last.status);
      if (last.status === 200) accessToken = last.body.accessToken as string;
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    expect(last!.body.code).toBe('HTTP.RATE_LIMITED');
    expect((await request(testApp.url).get('/health/live')).status).toBe(200);
  });

  it('does not let an untrusted client escape the per-address limit with X-Forwarded-For', async () => {
    const spoofed = await request(testApp.url)
      .post('/api/v1/auth/login')
      .set('X-Forwarded-For', '192.0.2.99')
      .send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    expect(spoofed.status).toBe(429);
  });

  it('50 authenticated reads from one address (a school behind NAT) all pass; the per-user limit still holds', async () => {
    const reads = async (count: number) => {
      const statuses: number[] = [];
      for (let batch = 0; batch < count; batch += 10) {
        const responses = await Promise.all(
          Array.from({ length: Math.min(10, count - batch) }, () =>
            request(testApp.url).get('/api/v1/auth/me').set(bearer(accessToken)),
          ),
        );
        statuses.push(...responses.map((response) => response.status));
      }
      return statuses;
    };
    expect(await reads(50)).toEqual(Array.from({ length: 50 }, () => 200));
    const beyond = await reads(15);
    expect(beyond).toContain(429);
    expect(beyond.filter((status) => status !== 200 && status !== 429)).toEqual([]);
  });
});
