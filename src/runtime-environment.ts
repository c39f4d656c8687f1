import { startEmbeddedPostgres, type EmbeddedPostgres } from '@app/persistence';
import { PG_BOSS_POOL_MAX } from '@app/queue';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { loadConfiguration, type DatabaseConfig, type LoadedConfiguration } from './config/index.js';
import { logStartupFailure } from './logger-options.js';

export interface RuntimeEnvironment {
  configuration: LoadedConfiguration;
  databaseUrl: string;
  /** Present in the embedded default: the PostgreSQL server this process started and must stop. */
  embeddedDatabase?: EmbeddedPostgres;
  stop(): Promise<void>;
}

/**
 * Resolves what must exist before the Nest app is built: validated configuration, a database URL (the
 * operator's, or an embedded PostgreSQL server under HOMEROOM_DATA_DIR), and outside production a signing
 * secret kept in the data directory so tokens survive a restart.
 */
export async function prepareRuntimeEnvironment(source: NodeJS.ProcessEnv = process.env): Promise<RuntimeEnvironment> {
  const env = { ...source };
  const production = env['NODE_ENV'] === 'production';
  const dataDir = resolve(env['HOMEROOM_DATA_DIR'] || './data');
  if (!production && !env['JWT_SECRET']) env['JWT_SECRET'] = localSecret(dataDir, 'jwt-secret');
  if (!production && !env['SIS_SECRETS_KEY']) env['SIS_SECRETS_KEY'] = localSecret(dataDir, 'sis-secrets-key');
  if (!production && !env['AUDIT_SIGNING_KEY']) env['AUDIT_SIGNING_KEY'] = localSecret(dataDir, 'audit-signing-key');

  const configuration = loadConfiguration(env);
  if (configuration.database.url) {
    return { configuration, databaseUrl: configuration.database.url, stop: () => Promise.resolve() };
  }
  const embeddedDatabase = await startEmbeddedPostgres({
    dataDir,
    maxConnections: embeddedMaxConnections(configuration.database.poolMax),
    port: configuration.database.embeddedPort,
    log: (message) => console.error(`[embedded PostgreSQL] ${message}`),
  });
  // From here on the embedded server is configured like an operator's: migrations as the owner (its superuser),
  // the service as a role that owns nothing, so the same grants, guards and code paths run in both modes.
  const database: DatabaseConfig = {
    ...configuration.database,
    url: embeddedDatabase.url,
    migrationUrl: embeddedDatabase.adminUrl,
    appRole: embeddedDatabase.appRole,
  };
  return {
    configuration: { ...configuration, database },
    databaseUrl: embeddedDatabase.url,
    embeddedDatabase,
    stop: () => embeddedDatabase.stop(),
  };
}

/**
 * Connections the embedded server accepts: the ORM pool; the migration runner's owner pool and advisory-lock
 * client; the job queue's own pool on the same database (pg-boss, PG_BOSS_POOL_MAX); and headroom for a
 * `psql` or `pg_dump` session beside PostgreSQL's 3 slots reserved for superusers.
 */
export function embeddedMaxConnections(poolMax: number): number {
  return poolMax + 2 + PG_BOSS_POOL_MAX + 3 + 5;
}

function localSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

/**
 * On SIGTERM/SIGINT: close the app (finishing in-flight work), then the embedded database, then exit. A repeated
 * signal changes nothing (`npm start` forwards the signal its process group already delivered); a shutdown still
 * going after `graceMs` exits anyway, and the exit hook still stops the embedded server.
 */
export function stopOnSignal(app: INestApplicationContext, runtime: RuntimeEnvironment, graceMs = 8_000): void {
  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      console.error(`Shutdown did not finish within ${graceMs} ms; exiting`);
      process.exit(1);
    }, graceMs).unref();
    try {
      await app.close();
    } finally {
      await runtime.stop();
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

/** Runs an entrypoint; a start-up failure (such as invalid configuration) logs its message as JSON and exits 1. */
export function runEntrypoint(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    logStartupFailure(error);
    process.exit(1);
  });
}
