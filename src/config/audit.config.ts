import { CronTime } from 'cron';
import { z } from 'zod';
import { booleanFromEnv, emptyAsUndefined, listFromEnv, parseEnv } from './env-parsing.js';

const keyMaterial = z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)');

const auditSchema = z.object({
  AUDIT_SIGNING_KEY: z.preprocess(emptyAsUndefined, keyMaterial.optional()),
  AUDIT_SIGNING_PREVIOUS_KEYS: z.preprocess(emptyAsUndefined, listFromEnv.pipe(z.array(keyMaterial)).optional()),
  AUDIT_ORIGIN: z.string().min(1).max(200).default('homeroom'),
  AUDIT_FAIL_CLOSED: booleanFromEnv.default(true),
  AUDIT_CAPTURE_ENABLED: booleanFromEnv.default(true),
  AUDIT_CHECKPOINT_INTERVAL_MINUTES: z.coerce.number().int().min(1).max(60).default(60),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(30).max(36_500).default(2_555),
  AUDIT_VERIFY_CRON: z
    .string()
    .trim()
    .default('30 3 * * *')
    .refine((cron) => validCron(cron), 'must be a cron expression (five or six fields, UTC), e.g. `30 3 * * *`'),
});

function validCron(cron: string): boolean {
  try {
    new CronTime(cron, 'UTC');
    return true;
  } catch {
    return false;
  }
}

/**
 * The FERPA audit trail.
 *
 * `AUDIT_SIGNING_KEY` seeds the Ed25519 key that signs checkpoints of the chain: the base64 of 32 random bytes
 * (`openssl rand -base64 32`, used as is) or any string of at least 32 characters (stretched with HKDF-SHA-256).
 * Required in production; elsewhere one is generated into `HOMEROOM_DATA_DIR/audit-signing-key`. Keep a copy
 * outside the database's administrators' reach. To rotate, set the new key and list the old one in
 * `AUDIT_SIGNING_PREVIOUS_KEYS`, so checkpoints it signed still verify and its public key stays published.
 */
export abstract class AuditConfig {
  abstract readonly signingKey: string | undefined;
  abstract readonly previousSigningKeys: readonly string[];
  /** Names this deployment's log in every checkpoint (e.g. `audit.district.example`). */
  abstract readonly origin: string;
  /** An access whose audit entry cannot be stored is refused (503) rather than served unaudited. */
  abstract readonly failClosed: boolean;
  /**
   * Whether HTTP routes record their accesses. Only benchmarks turn this off (to measure what capture costs);
   * production refuses to start without it.
   */
  abstract readonly captureEnabled: boolean;
  /** Checkpoints are signed at least this often (at most hourly), even when nothing was appended. */
  abstract readonly checkpointIntervalMinutes: number;
  /** Access entries older than this lose their payload (sequence and hashes stay); disclosures are kept. */
  abstract readonly retentionDays: number;
  /**
   * When the worker verifies the chain from the last verified checkpoint on (cron, UTC; default daily at 03:30).
   * A failure tells the `compliance` room and the alert channels, and shows on /metrics.
   */
  abstract readonly verifyCron: string;
}

export function loadAuditConfig(source: NodeJS.ProcessEnv, options: { isProduction: boolean }): AuditConfig {
  const env = parseEnv('audit', auditSchema, source);
  if (!env.AUDIT_SIGNING_KEY && options.isProduction) {
    throw new Error(
      'Invalid audit configuration:\n  - AUDIT_SIGNING_KEY: required in production (e.g. `openssl rand -base64 32`)',
    );
  }
  if (!env.AUDIT_CAPTURE_ENABLED && options.isProduction) {
    throw new Error('Invalid audit configuration:\n  - AUDIT_CAPTURE_ENABLED: cannot be false in production');
  }
  return {
    captureEnabled: env.AUDIT_CAPTURE_ENABLED,
    signingKey: env.AUDIT_SIGNING_KEY,
    previousSigningKeys: env.AUDIT_SIGNING_PREVIOUS_KEYS ?? [],
    origin: env.AUDIT_ORIGIN,
    failClosed: env.AUDIT_FAIL_CLOSED,
    checkpointIntervalMinutes: env.AUDIT_CHECKPOINT_INTERVAL_MINUTES,
    retentionDays: env.AUDIT_RETENTION_DAYS,
    verifyCron: env.AUDIT_VERIFY_CRON,
  };
}
