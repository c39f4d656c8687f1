import { describe, expect, it } from 'vitest';
import { loadConfiguration } from './configuration.module.js';

const secret = 'x'.repeat(40);

describe('configuration', () => {
  it('has safe defaults', () => {
    const configuration = loadConfiguration({ JWT_SECRET: secret });
    expect(configuration.app).toMatchObject({ port: 3000, corsOrigins: [], bodyLimit: '1mb', isProduction: false });
    expect(configuration.database).toMatchObject({ url: undefined, migrateOnStart: true });
    expect(configuration.redis.url).toBeUndefined();
    expect(configuration.metrics.port).toBe(9464);
    expect(configuration.auth).toMatchObject({
      accessTokenTtlSeconds: 900,
      maxFailedLogins: 5,
      lockoutMinutes: 15,
      loginSlowdownMaxMs: 2000,
      authRateLimitPerMinute: 20,
      apiUserRateLimitPerMinute: 600,
      bootstrapAdmin: undefined,
    });
    expect(configuration.app.trustedProxies).toEqual([]);
  });

  it('trusts only the configured proxies for X-Forwarded-For', () => {
    const listed = loadConfiguration({ JWT_SECRET: secret, TRUSTED_PROXIES: '10.0.0.5, 10.1.0.0/16, ::1, loopback' });
    expect(listed.app.trustedProxies).toEqual(['10.0.0.5', '10.1.0.0/16', '::1', 'loopback']);
    // The older boolean still works, narrowed to private networks instead of "whoever connects".
    const legacy = loadConfiguration({ JWT_SECRET: secret, TRUST_PROXY: 'true' });
    expect(legacy.app.trustedProxies).toEqual(['loopback', 'linklocal', 'uniquelocal']);
    for (const bad of ['*', 'proxy.district.org', '10.0.0.0/33', '10.0.0.1/8/2', 'true']) {
      expect(() => loadConfiguration({ JWT_SECRET: secret, TRUSTED_PROXIES: bad })).toThrow(/TRUSTED_PROXIES/);
    }
  });

  it('requires JWT_SECRET in production', () => {
    expect(() => loadConfiguration({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: required in production/);
  });

  it('rejects a short signing secret', () => {
    expect(() => loadConfiguration({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET: must be at least 32 characters/);
  });

  it('lists every invalid setting of a concern at once', () => {
    expect(() => loadConfiguration({ JWT_SECRET: secret, PORT: 'eighty', BODY_LIMIT: 'huge' })).toThrow(
      /PORT[\s\S]*BODY_LIMIT/,
    );
  });

  it('parses lists and URLs', () => {
    const configuration = loadConfiguration({
      JWT_SECRET: secret,
      CORS_ORIGINS: 'https://a.district.org, https://b.district.org',
      DATABASE_URL: 'postgres://u@db:5432/homeroom',
      REDIS_URL: 'redis://cache:6379',
    });
    expect(configuration.app.corsOrigins).toEqual(['https://a.district.org', 'https://b.district.org']);
    expect(configuration.database.url).toBe('postgres://u@db:5432/homeroom');
    expect(configuration.redis.url).toBe('redis://cache:6379');
  });

  it('refuses a database URL that is not PostgreSQL', () => {
    expect(() => loadConfiguration({ JWT_SECRET: secret, DATABASE_URL: 'mysql://db/homeroom' })).toThrow(
      /DATABASE_URL/,
    );
  });

  it('separates the migrating owner from the runtime role it grants', () => {
    const twoRoles = loadConfiguration({
      JWT_SECRET: secret,
      DATABASE_URL: 'postgres://homeroom_app:a@db:5432/homeroom',
      DATABASE_MIGRATION_URL: 'postgres://homeroom:o@db:5432/homeroom',
    });
    expect(twoRoles.database).toMatchObject({
      url: 'postgres://homeroom_app:a@db:5432/homeroom',
      migrationUrl: 'postgres://homeroom:o@db:5432/homeroom',
      appRole: 'homeroom_app',
    });
    const oneRole = loadConfiguration({ JWT_SECRET: secret, DATABASE_URL: 'postgres://homeroom@db:5432/homeroom' });
    expect(oneRole.database).toMatchObject({ migrationUrl: undefined, appRole: undefined });
    const named = loadConfiguration({
      JWT_SECRET: secret,
      DATABASE_URL: 'postgres://homeroom@db:5432/homeroom',
      DATABASE_APP_ROLE: 'homeroom_app',
    });
    expect(named.database.appRole).toBe('homeroom_app');
    expect(() =>
      loadConfiguration({ JWT_SECRET: secret, DATABASE_URL: 'postgres://h@db/h', DATABASE_APP_ROLE: 'app; DROP' }),
    ).toThrow(/DATABASE_APP_ROLE: must be a plain PostgreSQL role name/);
    expect(() => loadConfiguration({ JWT_SECRET: secret, DATABASE_MIGRATION_URL: 'postgres://h@db/h' })).toThrow(
      /DATABASE_MIGRATION_URL: needs DATABASE_URL/,
    );
  });

  it('reads the embedded server port, refused beside DATABASE_URL', () => {
    expect(loadConfiguration({ JWT_SECRET: secret }).database.embeddedPort).toBeUndefined();
    expect(loadConfiguration({ JWT_SECRET: secret, DATABASE_EMBEDDED_PORT: '54329' }).database.embeddedPort).toBe(
      54329,
    );
    expect(() => loadConfiguration({ JWT_SECRET: secret, DATABASE_EMBEDDED_PORT: '70000' })).toThrow(
      /DATABASE_EMBEDDED_PORT/,
    );
    expect(() =>
      loadConfiguration({ JWT_SECRET: secret, DATABASE_URL: 'postgres://h@db/h', DATABASE_EMBEDDED_PORT: '54329' }),
    ).toThrow(/DATABASE_EMBEDDED_PORT: is for the embedded database only/);
  });

  it('needs an admin email when an admin password is given', () => {
    expect(() => loadConfiguration({ JWT_SECRET: secret, HOMEROOM_ADMIN_PASSWORD: 'long-enough-password' })).toThrow(
      /HOMEROOM_ADMIN_EMAIL/,
    );
  });
});
