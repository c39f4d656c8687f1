import { z } from 'zod';
import { emptyAsUndefined, parseEnv } from './env-parsing.js';

const authSchema = z.object({
  JWT_SECRET: z.preprocess(emptyAsUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  JWT_ISSUER: z.string().min(1).default('homeroom'),
  JWT_AUDIENCE: z.string().min(1).default('homeroom-api'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(90).default(14),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  LOGIN_LOCKOUT_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  LOGIN_SLOWDOWN_MAX_MS: z.coerce.number().int().min(0).max(10_000).default(2000),
  AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(20),
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(6000),
  API_USER_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
  HOMEROOM_ADMIN_EMAIL: z.preprocess(emptyAsUndefined, z.email().optional()),
  HOMEROOM_ADMIN_PASSWORD: z.preprocess(emptyAsUndefined, z.string().min(12).optional()),
});

export abstract class AuthConfig {
  abstract readonly jwtSecret: string;
  abstract readonly issuer: string;
  abstract readonly audience: string;
  abstract readonly accessTokenTtlSeconds: number;
  abstract readonly refreshTokenTtlDays: number;
  /** Failed sign-ins from one address for one email (per window) before that address is refused for it. */
  abstract readonly maxFailedLogins: number;
  /** The window those failures are counted in, and how long the address stays refused at most. */
  abstract readonly lockoutMinutes: number;
  /** The longest an attempt on an email with many recent failures (from anywhere) is held before its answer. */
  abstract readonly loginSlowdownMaxMs: number;
  /** Per client address, on the credential routes (sign-in, refresh). */
  abstract readonly authRateLimitPerMinute: number;
  /** Per client address, over the whole API: a high ceiling, since a school's staff share one NAT address. */
  abstract readonly apiRateLimitPerMinute: number;
  /** Per signed-in user, over the authenticated routes. */
  abstract readonly apiUserRateLimitPerMinute: number;
  abstract readonly bootstrapAdmin: { email: string; password: string | undefined } | undefined;
}

/**
 * In production JWT_SECRET is required. Elsewhere a caller may pass a generated secret (the embedded
 * default keeps one in its data directory so tokens survive a restart).
 */
export function loadAuthConfig(source: NodeJS.ProcessEnv, options: { isProduction: boolean }): AuthConfig {
  const env = parseEnv('auth', authSchema, source);
  if (!env.JWT_SECRET) {
    throw new Error(
      options.isProduction
        ? 'Invalid auth configuration:\n  - JWT_SECRET: required in production (at least 32 random characters)'
        : 'Invalid auth configuration:\n  - JWT_SECRET: not set and no generated secret was provided',
    );
  }
  if (env.HOMEROOM_ADMIN_PASSWORD && !env.HOMEROOM_ADMIN_EMAIL) {
    throw new Error(
      'Invalid auth configuration:\n  - HOMEROOM_ADMIN_EMAIL: required when HOMEROOM_ADMIN_PASSWORD is set',
    );
  }
  return {
    jwtSecret: env.JWT_SECRET,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: env.REFRESH_TOKEN_TTL_DAYS,
    maxFailedLogins: env.LOGIN_MAX_FAILURES,
    lockoutMinutes: env.LOGIN_LOCKOUT_MINUTES,
    loginSlowdownMaxMs: env.LOGIN_SLOWDOWN_MAX_MS,
    authRateLimitPerMinute: env.AUTH_RATE_LIMIT_PER_MINUTE,
    apiRateLimitPerMinute: env.API_RATE_LIMIT_PER_MINUTE,
    apiUserRateLimitPerMinute: env.API_USER_RATE_LIMIT_PER_MINUTE,
    bootstrapAdmin: env.HOMEROOM_ADMIN_EMAIL
      ? { email: env.HOMEROOM_ADMIN_EMAIL, password: env.HOMEROOM_ADMIN_PASSWORD }
      : undefined,
  };
}
