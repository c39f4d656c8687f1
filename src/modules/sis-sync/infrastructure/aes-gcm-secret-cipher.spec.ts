import { PERMISSIVE_ADDRESS_POLICY } from '@app/sis-http';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SisSyncConfig } from '../../../config/index.js';
import { SecretUnreadableError } from '../domain/sis-sync.errors.js';
import { AesGcmSecretCipher } from './aes-gcm-secret-cipher.js';

const base64Key = randomBytes(32).toString('base64');
const passphraseKey = 'an-operator-chosen-string-of-at-least-32-chars';

function cipher(secretsKey: string | undefined, previousSecretsKeys: string[] = []): AesGcmSecretCipher {
  const config: SisSyncConfig = {
    secretsKey,
    previousSecretsKeys,
    allowHttpSisUrls: false,
    addressPolicy: PERMISSIVE_ADDRESS_POLICY,
    runLeaseSeconds: 60,
    applyChunkSize: 5000,
    maxResponseBytes: 64 * 1024 ** 2,
    writeLanes: 1,
  };
  return new AesGcmSecretCipher(config);
}

function unreadable(run: () => unknown): SecretUnreadableError {
  try {
    run();
  } catch (error) {
    if (error instanceof SecretUnreadableError) return error;
    throw error;
  }
  throw new Error('expected SecretUnreadableError');
}

describe('AesGcmSecretCipher', () => {
  it.each([
    ['a base64 32-byte key', base64Key],
    ['a base64url 32-byte key', randomBytes(32).toString('base64url')],
    ['a long string (HKDF)', passphraseKey],
  ])('round-trips with %s, with a fresh IV each time', (_label, key) => {
    const aes = cipher(key);
    const secret = 'client-secret-Ω-123';
    const first = aes.encrypt(secret, 'sis_connections:1');
    const second = aes.encrypt(secret, 'sis_connections:1');
    expect(first).not.toBe(second);
    expect(first).toMatch(/^hrs1\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(first).not.toContain(secret);
    expect(aes.decrypt(first, 'sis_connections:1')).toBe(secret);
    expect(aes.isCurrent(first)).toBe(true);
  });

  it('uses a key id that does not reveal the key', () => {
    const value = cipher(base64Key).encrypt('x');
    const keyId = value.split('.')[1];
    expect(base64Key).not.toContain(keyId);
    expect(Buffer.from(base64Key, 'base64').toString('base64url')).not.toContain(keyId);
  });

  it('binds the ciphertext to its context', () => {
    const aes = cipher(base64Key);
    const value = aes.encrypt('secret', 'sis_connections:a');
    expect(unreadable(() => aes.decrypt(value, 'sis_connections:b')).details).toEqual({ reason: 'tampered' });
    expect(unreadable(() => aes.decrypt(value)).details).toEqual({ reason: 'tampered' });
  });

  it('detects tampering with the ciphertext or the tag', () => {
    const aes = cipher(base64Key);
    const parts = aes.encrypt('secret').split('.');
    const flip = (text: string) => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
    const body = [...parts];
    body[3] = flip(body[3]);
    const tag = [...parts];
    tag[4] = flip(tag[4]);
    expect(unreadable(() => aes.decrypt(body.join('.'))).details).toEqual({ reason: 'tampered' });
    expect(unreadable(() => aes.decrypt(tag.join('.'))).details).toEqual({ reason: 'tampered' });
    expect(unreadable(() => aes.decrypt('plain text')).details).toEqual({ reason: 'malformed' });
  });

  it('decrypts with a previous key after rotation and says the value should be re-encrypted', () => {
    const before = cipher(passphraseKey).encrypt('rotating', 'ctx');
    const rotated = cipher(base64Key, [passphraseKey]);
    expect(rotated.decrypt(before, 'ctx')).toBe('rotating');
    expect(rotated.isCurrent(before)).toBe(false);
    expect(rotated.isCurrent(rotated.encrypt('rotating'))).toBe(true);
  });

  it('fails with a clear error, and no key material, when the key is gone', () => {
    const value = cipher(passphraseKey).encrypt('lost');
    const error = unreadable(() => cipher(base64Key).decrypt(value));
    expect(error.code).toBe('SIS_SYNC.SECRET_UNREADABLE');
    expect(error.details).toEqual({ reason: 'unknown_key' });
    const reported = JSON.stringify({ message: error.message, details: error.details });
    // Plain substring checks: a random base64 key holds `+` and `/`, which a regular expression would misread.
    for (const material of [base64Key.slice(0, 10), passphraseKey.slice(0, 10), 'lost']) {
      expect(reported).not.toContain(material);
    }
    expect(unreadable(() => cipher(undefined).decrypt(value)).details).toEqual({ reason: 'no_key' });
  });

  it('refuses to encrypt without a configured key', () => {
    expect(() => cipher(undefined).encrypt('x')).toThrow(/SIS_SECRETS_KEY is not configured/);
  });
});
