import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ADMIN_EMAIL = 'bench-admin@district.test';
export const ADMIN_PASSWORD = 'bench-password-long-enough';

export function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the compiled API on a scratch database: on the local PostgreSQL server when it answers (the
 * production target), else (or with `options.embedded`) on the embedded default in a scratch data directory.
 */
export async function startService(extraEnv = {}, options = {}) {
  const adminUrl = process.env.DATABASE_URL_ADMIN || 'postgres://postgres@127.0.0.1:5432/postgres';
  let databaseUrl = options.databaseUrl;
  let dropDatabase = async () => {};
  if (!databaseUrl && !options.embedded)
    try {
      const name = `homeroom_test_bench_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${name}"`);
      await admin.end();
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      databaseUrl = url.toString();
      dropDatabase = async () => {
        const client = new pg.Client({ connectionString: adminUrl });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await client.end();
      };
    } catch {
      databaseUrl = undefined;
    }
  const dataDir = mkdtempSync(join(tmpdir(), 'homeroom-bench-'));
  const port = await freePort();
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    METRICS_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    JWT_SECRET: randomBytes(32).toString('hex'),
    SIS_SECRETS_KEY: randomBytes(32).toString('base64'),
    AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
    HOMEROOM_DATA_DIR: dataDir,
    HOMEROOM_ADMIN_EMAIL: ADMIN_EMAIL,
    HOMEROOM_ADMIN_PASSWORD: ADMIN_PASSWORD,
    API_RATE_LIMIT_PER_MINUTE: '1000000',
    AUTH_RATE_LIMIT_PER_MINUTE: '10000',
    API_USER_RATE_LIMIT_PER_MINUTE: '1000000',
    ...extraEnv,
  };
  delete env.REDIS_URL;
  let dropRuntimeRole = async () => {};
  if (databaseUrl && env.NODE_ENV === 'production') {
    // Production refuses a superuser or table owner: the service runs as a role that owns nothing, granted by the
    // migrations, which run as the administrator's URL (see "Database roles" in the README).
    const role = `homeroom_bench_app_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE ROLE "${role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT`);
    await admin.end();
    const runtimeUrl = new URL(databaseUrl);
    runtimeUrl.username = role;
    env.DATABASE_MIGRATION_URL = databaseUrl;
    env.DATABASE_URL = runtimeUrl.toString();
    dropRuntimeRole = async (databaseDropped) => {
      if (!databaseDropped) {
        const owner = new pg.Client({ connectionString: databaseUrl });
        await owner.connect();
        await owner.query(`DROP OWNED BY "${role}"`);
        await owner.end();
      }
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP ROLE IF EXISTS "${role}"`);
      await cleanup.end();
    };
  } else if (databaseUrl) env.DATABASE_URL = databaseUrl;
  else delete env.DATABASE_URL;
  // The heap limit the Docker image and the README's production commands start the service with;
  // BENCH_SERVICE_HEAP_MB=0 measures V8's default instead.
  const heapMb = Number(process.env.BENCH_SERVICE_HEAP_MB ?? 256);
  const heap = heapMb > 0 ? [`--max-old-space-size=${heapMb}`] : [];
  const child = spawn(process.execPath, [...heap, join(import.meta.dirname, '../dist/src/main.js')], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error('the service exited during start-up');
    try {
      if ((await fetch(`${url}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the service did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    database: databaseUrl ? 'PostgreSQL' : 'embedded PostgreSQL',
    dataDir,
    stop: async () => {
      await new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      });
      await dropDatabase();
      if (databaseUrl) await dropRuntimeRole(!options.databaseUrl);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function formatRate(value) {
  return `${Math.round(value).toLocaleString('en-US')}`;
}

/** Signs in as the administrator `startService` creates and returns the access token. */
export async function adminAccessToken(url) {
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  if (!login.ok) throw new Error(`login failed: ${login.status}`);
  return (await login.json()).accessToken;
}
