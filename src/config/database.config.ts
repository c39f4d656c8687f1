import { z } from 'zod';
import { booleanFromEnv, emptyAsUndefined, parseEnv } from './env-parsing.js';

const databaseSchema = z.object({
  DATABASE_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_MIGRATE_ON_START: z.preprocess(emptyAsUndefined, booleanFromEnv.default(true)),
  DATABASE_DEBUG: z.preprocess(emptyAsUndefined, booleanFromEnv.default(false)),
});

export abstract class DatabaseConfig {
  /** Unset: the embedded PGlite server is started and its URL used instead. */
  abstract readonly url: string | undefined;
  abstract readonly poolMax: number;
  abstract readonly migrateOnStart: boolean;
  abstract readonly debug: boolean;
}

export function loadDatabaseConfig(source: NodeJS.ProcessEnv): DatabaseConfig {
  const env = parseEnv('database', databaseSchema, source);
  return {
    url: env.DATABASE_URL,
    poolMax: env.DATABASE_POOL_MAX,
    migrateOnStart: env.DATABASE_MIGRATE_ON_START,
    debug: env.DATABASE_DEBUG,
  };
}
