import { z } from 'zod';
import { emptyAsUndefined, parseEnv } from './env-parsing.js';

const redisSchema = z.object({
  REDIS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^rediss?$/ }).optional()),
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9:_-]+$/)
    .default('homeroom'),
});

export abstract class RedisConfig {
  /** Unset: jobs in PostgreSQL (pg-boss) and an in-process socket adapter (one API process). */
  abstract readonly url: string | undefined;
  /** Key prefix for queues, socket fan-out and rate limits, so several deployments can share one Redis. */
  abstract readonly prefix: string;
}

export function loadRedisConfig(source: NodeJS.ProcessEnv): RedisConfig {
  const env = parseEnv('redis', redisSchema, source);
  return { url: env.REDIS_URL, prefix: env.REDIS_PREFIX };
}
