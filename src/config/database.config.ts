import { z } from 'zod';
import { booleanFromEnv, emptyAsUndefined, parseEnv } from './env-parsing.js';

const postgresUrl = z.url({ protocol: /^postgres(ql)?$/ });

const databaseSchema = z
  .object({
    DATABASE_URL: z.preprocess(emptyAsUndefined, postgresUrl.optional()),
    DATABASE_MIGRATION_URL: z.preprocess(emptyAsUndefined, postgresUrl.optional()),
    DATABASE_APP_ROLE: z.preprocess(
      emptyAsUndefined,
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'must be a plain PostgreSQL role name (letters, digits, _ or $)')
        .optional(),
    ),
    DATABASE_EMBEDDED_PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).optional()),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    DATABASE_MIGRATE_ON_START: z.preprocess(emptyAsUndefined, booleanFromEnv.default(true)),
    DATABASE_DEBUG: z.preprocess(emptyAsUndefined, booleanFromEnv.default(false)),
  })
  .superRefine((env, context) => {
    if (env.DATABASE_URL) {
      if (env.DATABASE_EMBEDDED_PORT !== undefined) {
        context.addIssue({
          code: 'custom',
          path: ['DATABASE_EMBEDDED_PORT'],
          message: 'is for the embedded database only: unset it, or unset DATABASE_URL',
        });
      }
      return;
    }
    for (const key of ['DATABASE_MIGRATION_URL', 'DATABASE_APP_ROLE'] as const) {
      if (env[key]) {
        context.addIssue({
          code: 'custom',
          path: [key],
          message: 'needs DATABASE_URL (the embedded database makes its own owner and service roles)',
        });
      }
    }
  });

export abstract class DatabaseConfig {
  /**
   * Unset: the embedded PostgreSQL server is started under HOMEROOM_DATA_DIR, and this, `migrationUrl` and
   * `appRole` are filled in with its service role, its superuser and the service role's name.
   */
  abstract readonly url: string | undefined;
  /** The owner role's URL: migrations (at start-up and `homeroom migrate`) run through it when set. */
  abstract readonly migrationUrl: string | undefined;
  /**
   * The role the service connects as, granted its privileges after every migration run: DATABASE_APP_ROLE, or
   * DATABASE_URL's user when DATABASE_MIGRATION_URL names another user. Unset: one role does everything.
   */
  abstract readonly appRole: string | undefined;
  /** The embedded server's loopback port (DATABASE_EMBEDDED_PORT); undefined or 0: a free port at each start. */
  abstract readonly embeddedPort: number | undefined;
  abstract readonly poolMax: number;
  abstract readonly migrateOnStart: boolean;
  abstract readonly debug: boolean;
}

export function loadDatabaseConfig(source: NodeJS.ProcessEnv): DatabaseConfig {
  const env = parseEnv('database', databaseSchema, source);
  return {
    url: env.DATABASE_URL,
    migrationUrl: env.DATABASE_MIGRATION_URL,
    appRole: env.DATABASE_APP_ROLE ?? impliedAppRole(env.DATABASE_URL, env.DATABASE_MIGRATION_URL),
    embeddedPort: env.DATABASE_EMBEDDED_PORT,
    poolMax: env.DATABASE_POOL_MAX,
    migrateOnStart: env.DATABASE_MIGRATE_ON_START,
    debug: env.DATABASE_DEBUG,
  };
}

function impliedAppRole(url: string | undefined, migrationUrl: string | undefined): string | undefined {
  if (!url || !migrationUrl) return undefined;
  const user = (value: string): string => decodeURIComponent(new URL(value).username);
  return user(url) !== user(migrationUrl) && user(url) !== '' ? user(url) : undefined;
}
