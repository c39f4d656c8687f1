import { createTestDatabase, deleteRedisKeys, testRedisUrl, uniqueRedisPrefix, type TestDatabase } from '@app/testing';
import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpApp } from '../../src/http-app.js';
import { MetricsServer } from '../../src/modules/observability/index.js';
import { prepareRuntimeEnvironment } from '../../src/runtime-environment.js';
import { recordExchanges, type RecordedExchange } from './openapi-contract.js';

export const TEST_JWT_SECRET = 'test-signing-secret-that-is-long-enough-0123456789';
export const ADMIN_EMAIL = 'admin@district.test';
export const ADMIN_PASSWORD = 'correct-horse-battery-staple';

export interface TestApp {
  app: INestApplication;
  /** http://127.0.0.1:<port> of the API. */
  url: string;
  /** http://127.0.0.1:<port> of the separate metrics listener. */
  metricsUrl: string;
  databaseUrl: string;
  redisPrefix: string | undefined;
  /** With `recordExchanges`: every response the routes sent, to check against the OpenAPI document. */
  exchanges: RecordedExchange[] | undefined;
  close(): Promise<void>;
}

export interface BootTestAppOptions {
  role?: 'all' | 'api';
  /** Extra or overriding environment variables. */
  env?: Record<string, string>;
  /** Share a database with another booted app (e.g. two API processes). */
  databaseUrl?: string;
  /** Use Redis for the queue and socket fan-out; pass a prefix to share it with another app. */
  redis?: boolean | { prefix: string };
  /** Record every response (status, media type, body) for an OpenAPI contract check. */
  recordExchanges?: boolean;
}

/**
 * Boots the real application (same module graph, pipes, filters and adapters as `main.ts`) against a fresh
 * PostgreSQL database, listening on a random loopback port.
 */
export async function bootTestApp(options: BootTestAppOptions = {}): Promise<TestApp> {
  const database: TestDatabase | undefined = options.databaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = options.databaseUrl ?? database!.url;
  const redisPrefix =
    options.redis === undefined || options.redis === false
      ? undefined
      : options.redis === true
        ? uniqueRedisPrefix()
        : options.redis.prefix;
  const dataDir = mkdtempSync(join(tmpdir(), 'homeroom-test-'));
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    JWT_SECRET: TEST_JWT_SECRET,
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_MAX: '5',
    HOMEROOM_DATA_DIR: dataDir,
    HOMEROOM_ADMIN_EMAIL: ADMIN_EMAIL,
    HOMEROOM_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ...(redisPrefix ? { REDIS_URL: testRedisUrl(), REDIS_PREFIX: redisPrefix } : {}),
    ...options.env,
  };
  const runtime = await prepareRuntimeEnvironment(env);
  const app = await createHttpApp(runtime, options.role ?? 'all');
  const exchanges = options.recordExchanges ? recordExchanges(app) : undefined;
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const metrics = app.get(MetricsServer);
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    metricsUrl: `http://127.0.0.1:${metrics.port()}`,
    databaseUrl,
    redisPrefix,
    exchanges,
    close: async () => {
      await app.close();
      await runtime.stop();
      await database?.drop();
      if (redisPrefix && options.redis === true) await deleteRedisKeys(redisPrefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
