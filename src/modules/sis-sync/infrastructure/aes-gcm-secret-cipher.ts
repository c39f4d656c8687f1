import { Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { SisSyncConfig } from '../../../config/index.js';
import { SecretCipher } from '../application/ports/secret-cipher.port.js';
import { SecretUnreadableError } from '../domain/sis-sync.errors.js';

const FORMAT = 'hrs1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const HKDF_SALT = 'homeroom/sis-secrets/v1';
const HKDF_INFO = 'aes-256-gcm';
const PATTERN = /^hrs1\.([A-Za-z0-9_-]{11})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{22})$/;

interface Key {
  id: string;
  bytes: Buffer;
}

/**
 * AES-256-GCM with a random 96-bit IV per value and a 128-bit tag. Stored form:
 * `hrs1.<key id>.<iv>.<ciphertext>.<tag>` (base64url parts). The key id is an HMAC of the key (it reveals
 * nothing about it) and picks the key among SIS_SECRETS_KEY and SIS_SECRETS_PREVIOUS_KEYS; the format tag,
 * key id and the caller's context are authenticated as associated data.
 *
 * Key material: the base64 (or base64url) of exactly 32 bytes is used as is; any other string (at least 32
 * characters, checked by the config) is stretched with HKDF-SHA-256.
 */
@Injectable()
export class AesGcmSecretCipher extends SecretCipher {
  private readonly current: Key | undefined;
  private readonly keys = new Map<string, Key>();

  constructor(config: SisSyncConfig) {
    super();
    this.current = config.secretsKey ? toKey(config.secretsKey) : undefined;
    for (const key of [this.current, ...config.previousSecretsKeys.map(toKey)]) {
      if (key && !this.keys.has(key.id)) this.keys.set(key.id, key);
    }
  }

  encrypt(plain: string, context?: string): string {
    if (!this.current) throw new Error('SIS_SECRETS_KEY is not configured: SIS credentials cannot be stored');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.bytes, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(this.current.id, context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [FORMAT, this.current.id, b64(iv), b64(body), b64(tag)].join('.');
  }

  decrypt(value: string, context?: string): string {
    const match = PATTERN.exec(value);
    if (!match) throw new SecretUnreadableError('malformed');
    const [, keyId, iv, body, tag] = match as unknown as [string, string, string, string, string];
    if (this.keys.size === 0) throw new SecretUnreadableError('no_key');
    const key = this.keys.get(keyId);
    if (!key) throw new SecretUnreadableError('unknown_key');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(associatedData(keyId, context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      // Only "the tag did not verify": the key, context or ciphertext is wrong. Nothing of the key leaks.
      throw new SecretUnreadableError('tampered');
    }
  }

  isCurrent(value: string): boolean {
    const match = PATTERN.exec(value);
    return match !== null && this.current !== undefined && match[1] === this.current.id;
  }
}

function toKey(material: string): Key {
  const bytes = rawKey(material) ?? Buffer.from(hkdfSync('sha256', material, HKDF_SALT, HKDF_INFO, KEY_BYTES));
  const id = createHmac('sha256', bytes).update('homeroom sis-secrets key id').digest('base64url').slice(0, 11);
  return { id, bytes };
}

/** `openssl rand -base64 32` output (or its base64url form), decoded. */
function rawKey(material: string): Buffer | null {
  const trimmed = material.trim();
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(trimmed) && !/^[A-Za-z0-9_-]{43}=?$/.test(trimmed)) return null;
  const bytes = Buffer.from(trimmed, 'base64');
  return bytes.length === KEY_BYTES ? bytes : null;
}

function associatedData(keyId: string, context: string | undefined): Buffer {
  return Buffer.from(`${FORMAT}.${keyId}\u0000${context ?? ''}`, 'utf8');
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64url');
}
