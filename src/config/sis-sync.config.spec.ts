import { describe, expect, it } from 'vitest';
import { loadConfiguration } from './configuration.module.js';

const jwt = 'j'.repeat(40);
const key = 'k'.repeat(40);

describe('sis-sync configuration', () => {
  it('requires SIS_SECRETS_KEY in production', () => {
    expect(() => loadConfiguration({ NODE_ENV: 'production', JWT_SECRET: jwt })).toThrow(
      /SIS_SECRETS_KEY: required in production/,
    );
    const configuration = loadConfiguration({
      NODE_ENV: 'production',
      JWT_SECRET: jwt,
      SIS_SECRETS_KEY: key,
      AUDIT_SIGNING_KEY: key,
    });
    expect(configuration.sisSync).toEqual({
      secretsKey: key,
      previousSecretsKeys: [],
      allowHttpSisUrls: false,
      addressPolicy: { refuseInternal: true, refusePrivate: true, allowedHosts: [] },
      runLeaseSeconds: 60,
      applyChunkSize: 5000,
      maxResponseBytes: 64 * 1024 ** 2,
      writeLanes: 2,
    });
  });

  it('leaves the key unset outside production (the runtime environment generates one) and allows http SIS URLs', () => {
    expect(loadConfiguration({ JWT_SECRET: jwt }).sisSync).toEqual({
      secretsKey: undefined,
      previousSecretsKeys: [],
      allowHttpSisUrls: true,
      addressPolicy: { refuseInternal: false, refusePrivate: false, allowedHosts: [] },
      runLeaseSeconds: 60,
      applyChunkSize: 5000,
      maxResponseBytes: 64 * 1024 ** 2,
      writeLanes: 2,
    });
  });

  it('applies in two lanes on the embedded default and on a PostgreSQL server, never more than half the pool', () => {
    const url = 'postgres://postgres@127.0.0.1:5432/homeroom';
    expect(loadConfiguration({ JWT_SECRET: jwt }).sisSync.writeLanes).toBe(2);
    expect(loadConfiguration({ JWT_SECRET: jwt, DATABASE_URL: url }).sisSync.writeLanes).toBe(2);
    expect(
      loadConfiguration({ JWT_SECRET: jwt, DATABASE_URL: url, SIS_SYNC_WRITE_LANES: '4', DATABASE_POOL_MAX: '6' })
        .sisSync.writeLanes,
    ).toBe(3);
    expect(
      loadConfiguration({ JWT_SECRET: jwt, DATABASE_URL: url, SIS_SYNC_WRITE_LANES: '2', DATABASE_POOL_MAX: '1' })
        .sisSync.writeLanes,
    ).toBe(1);
    expect(() => loadConfiguration({ JWT_SECRET: jwt, SIS_SYNC_APPLY_CHUNK_SIZE: '0' })).toThrow(
      /SIS_SYNC_APPLY_CHUNK_SIZE/,
    );
  });

  it('reads the SIS address policy: strict in production, permissive elsewhere unless SIS_BLOCK_PRIVATE_ADDRESSES', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: jwt, SIS_SECRETS_KEY: key, AUDIT_SIGNING_KEY: key };
    expect(
      loadConfiguration({
        ...production,
        SIS_BLOCK_PRIVATE_ADDRESSES: 'false',
        SIS_ALLOWED_HOSTS: 'sis.lan, 10.2.0.0/16',
      }).sisSync.addressPolicy,
    ).toEqual({ refuseInternal: true, refusePrivate: false, allowedHosts: ['sis.lan', '10.2.0.0/16'] });
    expect(loadConfiguration({ JWT_SECRET: jwt, SIS_BLOCK_PRIVATE_ADDRESSES: 'true' }).sisSync.addressPolicy).toEqual({
      refuseInternal: true,
      refusePrivate: true,
      allowedHosts: [],
    });
    expect(() => loadConfiguration({ JWT_SECRET: jwt, SIS_ALLOWED_HOSTS: 'http://sis.lan/x' })).toThrow(
      /SIS_ALLOWED_HOSTS/,
    );
    expect(() => loadConfiguration({ JWT_SECRET: jwt, SIS_BLOCK_PRIVATE_ADDRESSES: 'maybe' })).toThrow(
      /SIS_BLOCK_PRIVATE_ADDRESSES/,
    );
  });

  it('refuses short keys without echoing them', () => {
    const attempt = () => loadConfiguration({ JWT_SECRET: jwt, SIS_SECRETS_KEY: 'short-key-value' });
    expect(attempt).toThrow(/SIS_SECRETS_KEY: must be at least 32 characters/);
    expect(attempt).not.toThrow(/short-key-value/);
    expect(() =>
      loadConfiguration({ JWT_SECRET: jwt, SIS_SECRETS_KEY: key, SIS_SECRETS_PREVIOUS_KEYS: `${key}2, tiny` }),
    ).toThrow(/SIS_SECRETS_PREVIOUS_KEYS/);
  });

  it('reads previous keys for rotation', () => {
    const old = 'o'.repeat(44);
    expect(
      loadConfiguration({ JWT_SECRET: jwt, SIS_SECRETS_KEY: key, SIS_SECRETS_PREVIOUS_KEYS: ` ${old} ` }).sisSync
        .previousSecretsKeys,
    ).toEqual([old]);
  });

  it('caps SIS response bodies at SIS_MAX_RESPONSE_BYTES (64 MiB by default), refusing nonsense', () => {
    expect(loadConfiguration({ JWT_SECRET: jwt }).sisSync.maxResponseBytes).toBe(64 * 1024 ** 2);
    expect(loadConfiguration({ JWT_SECRET: jwt, SIS_MAX_RESPONSE_BYTES: '1048576' }).sisSync.maxResponseBytes).toBe(
      1024 ** 2,
    );
    expect(() => loadConfiguration({ JWT_SECRET: jwt, SIS_MAX_RESPONSE_BYTES: '0' })).toThrow(/SIS_MAX_RESPONSE_BYTES/);
    expect(() => loadConfiguration({ JWT_SECRET: jwt, SIS_MAX_RESPONSE_BYTES: 'lots' })).toThrow(
      /SIS_MAX_RESPONSE_BYTES/,
    );
  });
});
