import { z } from 'zod';
import { booleanFromEnv, emptyAsUndefined, listFromEnv, parseEnv } from './env-parsing.js';

const appSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  CORS_ORIGINS: z.preprocess(emptyAsUndefined, listFromEnv.optional()),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'a size such as 100kb or 1mb')
    .default('1mb'),
  TRUST_PROXY: z.preprocess(emptyAsUndefined, booleanFromEnv.default(false)),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOMEROOM_DATA_DIR: z.string().default('./data'),
  JOB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
});

/** Process-wide settings: where to listen, who may call from a browser, logging. */
export abstract class AppConfig {
  abstract readonly environment: 'development' | 'production' | 'test';
  abstract readonly isProduction: boolean;
  abstract readonly host: string;
  abstract readonly port: number;
  /** Browser origins allowed for HTTP (CORS) and socket.io. Empty: no cross-origin browser access. */
  abstract readonly corsOrigins: readonly string[];
  abstract readonly bodyLimit: string;
  abstract readonly trustProxy: boolean;
  abstract readonly logLevel: string;
  abstract readonly dataDir: string;
  abstract readonly jobConcurrency: number;
}

export function loadAppConfig(source: NodeJS.ProcessEnv): AppConfig {
  const env = parseEnv('app', appSchema, source);
  return {
    environment: env.NODE_ENV,
    isProduction: env.NODE_ENV === 'production',
    host: env.HOST,
    port: env.PORT,
    corsOrigins: env.CORS_ORIGINS ?? [],
    bodyLimit: env.BODY_LIMIT,
    trustProxy: env.TRUST_PROXY,
    logLevel: env.LOG_LEVEL,
    dataDir: env.HOMEROOM_DATA_DIR,
    jobConcurrency: env.JOB_CONCURRENCY,
  };
}
