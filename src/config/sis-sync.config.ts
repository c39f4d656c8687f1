import type { SisAddressPolicy } from '@app/sis-http';
import { z } from 'zod';
import { booleanFromEnv, emptyAsUndefined, listFromEnv, parseEnv } from './env-parsing.js';

const keyMaterial = z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)');

const sisSyncSchema = z.object({
  SIS_SECRETS_KEY: z.preprocess(emptyAsUndefined, keyMaterial.optional()),
  SIS_SECRETS_PREVIOUS_KEYS: z.preprocess(emptyAsUndefined, listFromEnv.pipe(z.array(keyMaterial)).optional()),
  SIS_SYNC_RUN_LEASE_SECONDS: z.coerce.number().int().min(2).max(3600).default(60),
  SIS_SYNC_APPLY_CHUNK_SIZE: z.coerce.number().int().min(1).max(50_000).default(5_000),
  SIS_SYNC_WRITE_LANES: z.coerce.number().int().min(1).max(8).default(2),
  SIS_MAX_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(1024 ** 3)
    .default(64 * 1024 ** 2),
  SIS_BLOCK_PRIVATE_ADDRESSES: z.preprocess(emptyAsUndefined, booleanFromEnv.optional()),
  SIS_ALLOWED_HOSTS: z.preprocess(
    emptyAsUndefined,
    listFromEnv
      .pipe(
        z.array(
          z
            .string()
            .max(253)
            .regex(/^[A-Za-z0-9.:_-]+(\/\d{1,3})?$/, 'a host name, an IP address or a CIDR range such as 10.20.0.0/16'),
        ),
      )
      .optional(),
  ),
});

/**
 * SIS connection settings.
 *
 * `SIS_SECRETS_KEY` encrypts SIS client/consumer secrets at rest (AES-256-GCM). Give either the base64 of 32
 * random bytes (`openssl rand -base64 32`, used as is) or any string of at least 32 characters (stretched to
 * a 256-bit key with HKDF-SHA-256; use a random one, not a passphrase). Required in production; elsewhere a
 * random key is generated once into `HOMEROOM_DATA_DIR/sis-secrets-key`.
 *
 * To rotate: set the new key as `SIS_SECRETS_KEY` and list the old one in `SIS_SECRETS_PREVIOUS_KEYS`
 * (comma-separated): stored secrets still decrypt, and each is re-encrypted with the new key when it is next
 * written. Losing a key makes the secrets encrypted with it unreadable (`SIS_SYNC.SECRET_UNREADABLE`): the
 * administrator re-enters them.
 */
export abstract class SisSyncConfig {
  /** Unset only outside production when no generated key was provided; encrypting then fails. */
  abstract readonly secretsKey: string | undefined;
  abstract readonly previousSecretsKeys: readonly string[];
  /** Plain-http SIS and token URLs are accepted outside production only. */
  abstract readonly allowHttpSisUrls: boolean;
  /**
   * Which addresses SIS and token URLs may reach, checked when a connection is saved and again on the resolved
   * address at connect time. Production always refuses loopback and link-local (cloud metadata) addresses, and
   * private ranges unless `SIS_BLOCK_PRIVATE_ADDRESSES=false`; elsewhere nothing is refused unless
   * `SIS_BLOCK_PRIVATE_ADDRESSES=true` (then all of them are, as in production). `SIS_ALLOWED_HOSTS` lists
   * exceptions (host names, IPs, CIDR ranges).
   */
  abstract readonly addressPolicy: SisAddressPolicy;
  /**
   * A worker renews its claim on a running sync every couple of seconds; when it stops (the process died) for
   * this long, another worker resumes the run from its checkpoint.
   */
  abstract readonly runLeaseSeconds: number;
  /** Records of one entity applied (and checkpointed) per transaction. */
  abstract readonly applyChunkSize: number;
  /**
   * Pages a sync stages, and chunks of one entity it applies, at once, each on its own database connection
   * (applied chunks still commit in order). At most half the pool.
   */
  abstract readonly writeLanes: number;
  /**
   * Largest SIS response body (one page, one token answer) read into memory; a larger one fails the run with
   * `SIS_SYNC.SOURCE_RESPONSE_TOO_LARGE`, without retrying.
   */
  abstract readonly maxResponseBytes: number;
}

export function loadSisSyncConfig(
  source: NodeJS.ProcessEnv,
  options: { isProduction: boolean; databasePoolMax: number },
): SisSyncConfig {
  const env = parseEnv('sis-sync', sisSyncSchema, source);
  if (!env.SIS_SECRETS_KEY && options.isProduction) {
    throw new Error(
      'Invalid sis-sync configuration:\n  - SIS_SECRETS_KEY: required in production (e.g. `openssl rand -base64 32`)',
    );
  }
  return {
    secretsKey: env.SIS_SECRETS_KEY,
    previousSecretsKeys: env.SIS_SECRETS_PREVIOUS_KEYS ?? [],
    allowHttpSisUrls: !options.isProduction,
    addressPolicy: {
      refuseInternal: options.isProduction || env.SIS_BLOCK_PRIVATE_ADDRESSES === true,
      refusePrivate: env.SIS_BLOCK_PRIVATE_ADDRESSES ?? options.isProduction,
      allowedHosts: env.SIS_ALLOWED_HOSTS ?? [],
    },
    runLeaseSeconds: env.SIS_SYNC_RUN_LEASE_SECONDS,
    applyChunkSize: env.SIS_SYNC_APPLY_CHUNK_SIZE,
    maxResponseBytes: env.SIS_MAX_RESPONSE_BYTES,
    writeLanes: Math.max(1, Math.min(env.SIS_SYNC_WRITE_LANES, Math.floor(options.databasePoolMax / 2))),
  };
}
