import { startEmbeddedPostgres, type EmbeddedPostgres } from '@app/persistence';
import { PG_BOSS_POOL_MAX } from '@app/queue';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { loadConfiguration, type LoadedConfiguration } from './config/index.js';
import { logStartupFailure } from './logger-options.js';

export interface RuntimeEnvironment {
  configuration: LoadedConfiguration;
  databaseUrl: string;
  /** Present in the embedded default: the PGlite server this process started and must stop. */
  embeddedDatabase?: EmbeddedPostgres;
  stop(): Promise<void>;
}

/**
 * Resolves what must exist before the Nest app is built: validated configuration, a database URL (the
 * operator's, or an embedded PGlite server under HOMEROOM_DATA_DIR), and outside production a signing
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
    // The ORM pool, the job queue's pool, and two spare (migration lock, owner).
    maxConnections: configuration.database.poolMax + PG_BOSS_POOL_MAX + 2,
  });
  return {
    configuration,
    databaseUrl: embeddedDatabase.url,
    embeddedDatabase,
    stop: () => embeddedDatabase.stop(),
  };
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

/** On SIGTERM/SIGINT: close the app (finishing in-flight work), then the embedded database, then exit. */
export function stopOnSignal(app: INestApplicationContext, runtime: RuntimeEnvironment): void {
  const shutdown = async (): Promise<void> => {
    await app.close();
    await runtime.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

/** Runs an entrypoint; a start-up failure (such as invalid configuration) logs its message as JSON and exits 1. */
export function runEntrypoint(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    logStartupFailure(error);
    process.exit(1);
  });
}
