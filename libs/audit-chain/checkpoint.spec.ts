import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH } from './chain-hash.js';
import {
  buildCheckpointBody,
  CheckpointFormatError,
  parseCheckpointBody,
  signCheckpoint,
  verifyCheckpointSignature,
  type CheckpointFields,
} from './checkpoint.js';
import {
  auditKeyId,
  auditPublicKeyFrom,
  auditSigningKeyFrom,
  pemBlocks,
  publishAuditKey,
  rawPublicKey,
} from './signing-key.js';

const fields = (overrides: Partial<CheckpointFields> = {}): CheckpointFields => ({
  origin: 'audit.district.test',
  id: 2,
  size: 41,
  head: Buffer.alloc(32, 0xab),
  time: '2026-11-25T10:00:00.123Z',
  prev: Buffer.alloc(64, 0x01),
  keyId: '0123456789abcdef',
  ...overrides,
});

describe('checkpoint body', () => {
  it('writes the documented note and reads it back unchanged', () => {
    const body = buildCheckpointBody(fields());
    expect(body).toBe(
      [
        'homeroom-audit-checkpoint/v1',
        'origin audit.district.test',
        'id 2',
        'size 41',
        `head ${Buffer.alloc(32, 0xab).toString('base64')}`,
        'time 2026-11-25T10:00:00.123Z',
        `prev ${Buffer.alloc(64, 0x01).toString('base64')}`,
        'key 0123456789abcdef',
        '',
      ].join('\n'),
    );
    expect(parseCheckpointBody(body)).toEqual(fields());
  });

  it('writes "-" for the first checkpoint and the zero head for an empty chain', () => {
    const first = fields({ id: 1, size: 0, head: GENESIS_HASH, prev: null });
    const body = buildCheckpointBody(first);
    expect(body).toContain('\nprev -\n');
    expect(body).toContain(`\nhead ${Buffer.alloc(32).toString('base64')}\n`);
    expect(parseCheckpointBody(body)).toEqual(first);
  });

  it.each([
    ['a missing final newline', (body: string) => body.slice(0, -1)],
    ['another format line', (body: string) => body.replace('checkpoint/v1', 'checkpoint/v2')],
    ['reordered fields', (body: string) => body.replace('id 2\nsize 41', 'size 41\nid 2')],
    ['an extra line', (body: string) => `${body}extra 1\n`],
    ['a size with a sign', (body: string) => body.replace('size 41', 'size +41')],
    ['a leading zero', (body: string) => body.replace('size 41', 'size 041')],
    ['a short head', (body: string) => body.replace(/head \S+/, 'head AAAA')],
    ['a local time', (body: string) => body.replace('10:00:00.123Z', '10:00:00.123+01:00')],
    ['an upper-case key id', (body: string) => body.replace('0123456789abcdef', '0123456789ABCDEF')],
    ['a second space', (body: string) => body.replace('id 2', 'id  2')],
  ])('rejects %s', (_label, change) => {
    expect(() => parseCheckpointBody(change(buildCheckpointBody(fields())))).toThrow(CheckpointFormatError);
  });

  it('refuses to build a body from fields that could not be read back', () => {
    expect(() => buildCheckpointBody(fields({ origin: 'two\nlines' }))).toThrow(CheckpointFormatError);
    expect(() => buildCheckpointBody(fields({ id: 0 }))).toThrow(CheckpointFormatError);
    expect(() => buildCheckpointBody(fields({ time: 'yesterday' }))).toThrow(CheckpointFormatError);
  });
});

describe('checkpoint signature', () => {
  const key = auditSigningKeyFrom('checkpoint-spec-key-material-0123456789');

  it('verifies with the public key and fails once the body or signature changes', () => {
    const body = buildCheckpointBody(fields({ keyId: key.keyId }));
    const signature = signCheckpoint(body, key.privateKey);
    expect(verifyCheckpointSignature(body, signature, key.publicKey)).toBe(true);
    expect(verifyCheckpointSignature(body.replace('size 41', 'size 42'), signature, key.publicKey)).toBe(false);
    const flipped = Buffer.from(signature);
    flipped[10] ^= 0x01;
    expect(verifyCheckpointSignature(body, flipped, key.publicKey)).toBe(false);
    expect(verifyCheckpointSignature(body, signature.subarray(0, 63), key.publicKey)).toBe(false);
    const other = auditSigningKeyFrom('another-key-material-0123456789abcdef');
    expect(verifyCheckpointSignature(body, signature, other.publicKey)).toBe(false);
  });

  it('is plain Ed25519 over the body bytes, so any Ed25519 verifier agrees', () => {
    const body = buildCheckpointBody(fields({ keyId: key.keyId }));
    const signature = signCheckpoint(body, key.privateKey);
    const published = publishAuditKey(key, true);
    expect(verify(null, Buffer.from(body), createPublicKey(published.publicKeyPem), signature)).toBe(true);
  });
});

describe('signing key material', () => {
  it('uses the base64 of 32 bytes as the seed and stretches anything else with HKDF', () => {
    const seed = randomBytes(32);
    const fromSeed = auditSigningKeyFrom(seed.toString('base64'));
    expect(auditSigningKeyFrom(seed.toString('base64url')).keyId).toBe(fromSeed.keyId);
    expect(fromSeed.privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32).equals(seed)).toBe(true);

    const stretched = auditSigningKeyFrom('a passphrase that is long enough for the config');
    expect(auditSigningKeyFrom('a passphrase that is long enough for the config').keyId).toBe(stretched.keyId);
    expect(auditSigningKeyFrom('a passphrase that is long enough for the confiG').keyId).not.toBe(stretched.keyId);
  });

  it('names a key by the first 8 bytes of SHA-256 over its raw public key', async () => {
    const key = auditSigningKeyFrom('key-id-spec-material-0123456789abcdef');
    const { createHash } = await import('node:crypto');
    expect(key.keyId).toBe(createHash('sha256').update(rawPublicKey(key.publicKey)).digest('hex').slice(0, 16));
    expect(auditKeyId(auditPublicKeyFrom(publishAuditKey(key, false).publicKeyPem))).toBe(key.keyId);
    expect(auditKeyId(auditPublicKeyFrom(publishAuditKey(key, false).publicKey))).toBe(key.keyId);
  });

  it('finds every PEM block in a key file', () => {
    const one = publishAuditKey(auditSigningKeyFrom('first-key-material-0123456789abcdef'), true).publicKeyPem;
    const two = publishAuditKey(auditSigningKeyFrom('second-key-material-0123456789abcdef'), false).publicKeyPem;
    expect(pemBlocks(`# current\n${one}\n# previous\n${two}`)).toHaveLength(2);
    expect(() => auditPublicKeyFrom('not a key')).toThrow();
  });
});
