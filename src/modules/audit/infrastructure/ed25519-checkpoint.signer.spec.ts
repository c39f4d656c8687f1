import { buildCheckpointBody, GENESIS_HASH, verifyChain, type CheckpointRecord } from '@app/audit-chain';
import { describe, expect, it } from 'vitest';
import { AuditSigningKeyMissingError } from '../domain/audit-integrity.errors.js';
import { TEST_AUDIT_CONFIG } from './audit-integrity-wiring.fake.js';
import { Ed25519CheckpointSigner } from './ed25519-checkpoint.signer.js';

const OLD = 'the-key-before-rotation-0123456789abcdef';
const NEW = 'the-key-after-rotation-0123456789abcdef';

/** An empty-chain checkpoint signed by the given signer. */
function checkpoint(signer: Ed25519CheckpointSigner, id: number, prev: CheckpointRecord | null): CheckpointRecord {
  const fields = {
    origin: TEST_AUDIT_CONFIG.origin,
    id,
    size: 0,
    head: GENESIS_HASH,
    time: new Date(Date.UTC(2026, 10, 25, id)).toISOString(),
    prev: prev?.signature ?? null,
    keyId: signer.currentKeyId(),
  };
  const body = buildCheckpointBody(fields);
  return {
    id,
    size: 0,
    head: GENESIS_HASH,
    time: fields.time,
    keyId: fields.keyId,
    body,
    signature: signer.sign(body),
  };
}

describe('Ed25519CheckpointSigner', () => {
  it('keeps publishing a rotated-out key, so checkpoints it signed still verify', async () => {
    const before = new Ed25519CheckpointSigner({ ...TEST_AUDIT_CONFIG, signingKey: OLD });
    const after = new Ed25519CheckpointSigner({
      ...TEST_AUDIT_CONFIG,
      signingKey: NEW,
      previousSigningKeys: [OLD, NEW],
    });
    expect(after.publishedKeys().map((key) => [key.keyId, key.current])).toEqual([
      [after.currentKeyId(), true],
      [before.currentKeyId(), false],
    ]);
    const first = checkpoint(before, 1, null);
    const second = checkpoint(after, 2, first);
    const keys = after.publishedKeys().map((key) => key.publicKeyPem);
    expect(await verifyChain([], { checkpoints: [first, second], publicKeys: keys })).toMatchObject({ ok: true });
    const currentOnly = [after.publishedKeys()[0].publicKeyPem];
    expect(await verifyChain([], { checkpoints: [first, second], publicKeys: currentOnly })).toMatchObject({
      ok: false,
      problem: { code: 'AUDIT_CHAIN.CHECKPOINT_UNKNOWN_KEY', checkpointId: 1 },
    });
  });

  it('refuses to sign without a key, but still publishes the previous ones', () => {
    const signer = new Ed25519CheckpointSigner({
      ...TEST_AUDIT_CONFIG,
      signingKey: undefined,
      previousSigningKeys: [OLD],
    });
    expect(() => signer.sign('body\n')).toThrow(AuditSigningKeyMissingError);
    expect(() => signer.currentKeyId()).toThrow(AuditSigningKeyMissingError);
    expect(signer.publishedKeys()).toHaveLength(1);
  });
});
