import { isIP } from 'node:net';
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
  TRUSTED_PROXIES: z.preprocess(
    emptyAsUndefined,
    listFromEnv
      .pipe(z.array(z.string().refine(isProxyAddress, 'an IP address, a CIDR range or loopback/linklocal/uniquelocal')))
      .optional(),
  ),
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
  /**
   * Addresses whose `X-Forwarded-For` is believed (express `trust proxy`): the client address is the nearest
   * one in that header not in this list. Empty: the header is ignored and the peer address is the client.
   */
  abstract readonly trustedProxies: readonly string[];
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
    trustedProxies: env.TRUSTED_PROXIES ?? (env.TRUST_PROXY ? PRIVATE_NETWORKS : []),
    logLevel: env.LOG_LEVEL,
    dataDir: env.HOMEROOM_DATA_DIR,
    jobConcurrency: env.JOB_CONCURRENCY,
  };
}

/** What the older `TRUST_PROXY=true` means: a proxy on a private network in front of the API. */
const PRIVATE_NETWORKS = ['loopback', 'linklocal', 'uniquelocal'] as const;

function isProxyAddress(entry: string): boolean {
  if ((PRIVATE_NETWORKS as readonly string[]).includes(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
