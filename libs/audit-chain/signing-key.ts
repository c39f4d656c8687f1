import { createPrivateKey, createPublicKey, hash, hkdfSync, type KeyObject } from 'node:crypto';

const SEED_BYTES = 32;
const HKDF_SALT = 'homeroom-audit-signing-key';
const HKDF_INFO = 'ed25519 seed v1';
/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows it. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SPKI DER header of an Ed25519 public key; the raw 32-byte key follows it. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** An Ed25519 key pair for signing checkpoints, with the id checkpoints name it by. */
export interface AuditSigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** What a deployment publishes so that anyone can verify its checkpoints. */
export interface PublishedAuditKey {
  keyId: string;
  algorithm: 'Ed25519';
  /** SPKI, PEM-encoded. */
  publicKeyPem: string;
  /** The raw 32-byte public key, base64. */
  publicKey: string;
  /** Signs new checkpoints (the others are previous keys, kept so older checkpoints still verify). */
  current: boolean;
}

/**
 * The Ed25519 key for `AUDIT_SIGNING_KEY`: the base64 of exactly 32 bytes is the seed as is (`openssl rand
 * -base64 32`); any other string is stretched into a seed with HKDF-SHA-256. The same material always gives the
 * same key, so every process of a deployment signs with one key and the public key can be published once.
 */
export function auditSigningKeyFrom(material: string): AuditSigningKey {
  const seed = rawSeed(material) ?? Buffer.from(hkdfSync('sha256', material, HKDF_SALT, HKDF_INFO, SEED_BYTES));
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  return { keyId: auditKeyId(publicKey), privateKey, publicKey };
}

/** First 8 bytes of SHA-256 over the raw public key, hex: short, stable, and derived from the key alone. */
export function auditKeyId(publicKey: KeyObject): string {
  return hash('sha256', rawPublicKey(publicKey), 'hex').slice(0, 16);
}

export function rawPublicKey(publicKey: KeyObject): Buffer {
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new TypeError('Audit checkpoint keys are Ed25519 keys');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return der.subarray(SPKI_ED25519_PREFIX.length);
}

export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

export function publishAuditKey(key: AuditSigningKey, current: boolean): PublishedAuditKey {
  return {
    keyId: key.keyId,
    algorithm: 'Ed25519',
    publicKeyPem: publicKeyPem(key.publicKey),
    publicKey: rawPublicKey(key.publicKey).toString('base64'),
    current,
  };
}

/** An Ed25519 public key from a PEM (SPKI) or the base64 of its 32 raw bytes. */
export function auditPublicKeyFrom(input: string | KeyObject): KeyObject {
  if (typeof input !== 'string') {
    rawPublicKey(input);
    return input;
  }
  const text = input.trim();
  const key = text.startsWith('-----BEGIN')
    ? createPublicKey(text)
    : createPublicKey({
        key: Buffer.concat([SPKI_ED25519_PREFIX, decodeExactly(text, SEED_BYTES, 'public key')]),
        format: 'der',
        type: 'spki',
      });
  rawPublicKey(key);
  return key;
}

/** Every PEM public key block in a text (a key file may hold the current and the previous keys). */
export function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [];
}

function rawSeed(material: string): Buffer | null {
  const trimmed = material.trim();
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(trimmed) && !/^[A-Za-z0-9_-]{43}=?$/.test(trimmed)) return null;
  const bytes = Buffer.from(trimmed, 'base64');
  return bytes.length === SEED_BYTES ? bytes : null;
}

function decodeExactly(base64: string, length: number, what: string): Buffer {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== length || !/^[A-Za-z0-9+/_-]+=*$/.test(base64)) {
    throw new TypeError(`The ${what} is not the base64 of ${length} bytes`);
  }
  return bytes;
}
