import { describe, expect, it } from 'vitest';
import { chainHash, entryHash, GENESIS_HASH } from './chain-hash.js';
import { verifyChain, type ChainRecord } from './chain-verifier.js';
import { createCheckpoint, type CheckpointRecord } from './checkpoint.js';
import { auditSigningKeyFrom } from './signing-key.js';
import { altered, FIXTURE_ORIGIN, signSyntheticCheckpoint, syntheticChain } from './synthetic-chain.fake.js';

describe('verifyChain', () => {
  const chain = syntheticChain(30, { purged: [3, 4, 17], checkpointSizes: [0, 10, 10, 25, 30] });
  const keys = [chain.key.publicKey];
  const options = { checkpoints: chain.checkpoints, publicKeys: keys, origin: FIXTURE_ORIGIN };

  /** The records with one replaced. */
  const replacing = (seq: number, change: Partial<ChainRecord>): ChainRecord[] =>
    chain.records.map((record) => (record.seq === seq ? altered(record, change) : record));

  it('passes a clean chain with purged entries, checking every checkpoint', async () => {
    const result = await verifyChain(chain.records, options);
    expect(result).toMatchObject({
      ok: true,
      checkedEntries: 30,
      purgedEntries: 3,
      lastSeq: 30,
      firstBadSeq: null,
      problem: null,
    });
    expect(result.lastCheckpoint).toMatchObject({ id: 5, size: 30, keyId: chain.key.keyId });
    expect(result.lastCheckpoint?.head.equals(chain.records[29].hash)).toBe(true);
  });

  it('accepts batches, an async source, and checkpoints in any order or twice', async () => {
    async function* batches(): AsyncGenerator<readonly ChainRecord[]> {
      for (let index = 0; index < chain.records.length; index += 7) yield chain.records.slice(index, index + 7);
    }
    const shuffled = [...chain.checkpoints].reverse().concat(chain.checkpoints[1]);
    const result = await verifyChain(batches(), { ...options, checkpoints: shuffled });
    expect(result).toMatchObject({ ok: true, checkedEntries: 30 });
  });

  it('passes an empty chain', async () => {
    const empty = syntheticChain(0, { checkpointSizes: [0, 0] });
    expect(await verifyChain([], { checkpoints: empty.checkpoints, publicKeys: [empty.key.publicKey] })).toMatchObject({
      ok: true,
      checkedEntries: 0,
      lastCheckpoint: { id: 2, size: 0 },
    });
  });

  it('detects an altered entry text', async () => {
    const text = (chain.records[11].entry as string).replace('"allowed"', '"denied"');
    const result = await verifyChain(replacing(12, { entry: text }), options);
    expect(result).toMatchObject({
      ok: false,
      firstBadSeq: 12,
      checkedEntries: 11,
      problem: { code: 'AUDIT_CHAIN.ENTRY_ALTERED', seq: 12 },
    });
    expect(result.lastCheckpoint?.id).toBe(3);
  });

  it('trusts a reader that checked the text where it is stored, and reports a mismatch it found', async () => {
    const checkedInPlace = chain.records.map((record) => ({ ...record, entry: null, entryMatches: true }));
    expect(await verifyChain(checkedInPlace, options)).toMatchObject({
      ok: true,
      checkedEntries: chain.records.length,
    });
    checkedInPlace[11] = { ...checkedInPlace[11], entryMatches: false };
    expect(await verifyChain(checkedInPlace, options)).toMatchObject({
      ok: false,
      firstBadSeq: 12,
      problem: { code: 'AUDIT_CHAIN.ENTRY_ALTERED', seq: 12 },
    });
  });

  it('detects an entry whose text and entry hash were both replaced (the hash no longer recomputes)', async () => {
    const text = (chain.records[11].entry as string).replace('"allowed"', '"denied"');
    const result = await verifyChain(replacing(12, { entry: text, entryHash: entryHash(text) }), options);
    expect(result).toMatchObject({ ok: false, firstBadSeq: 12, problem: { code: 'AUDIT_CHAIN.HASH_MISMATCH' } });
  });

  it('detects an altered hash', async () => {
    const result = await verifyChain(replacing(20, { hash: Buffer.alloc(32, 7) }), options);
    expect(result).toMatchObject({ ok: false, firstBadSeq: 20, problem: { code: 'AUDIT_CHAIN.HASH_MISMATCH' } });
  });

  it('detects a broken link', async () => {
    const result = await verifyChain(replacing(8, { prevHash: chain.records[5].hash }), options);
    expect(result).toMatchObject({ ok: false, firstBadSeq: 8, problem: { code: 'AUDIT_CHAIN.LINK_BROKEN' } });
  });

  it('detects a gap in seq, naming the first missing entry', async () => {
    const records = chain.records.filter((record) => record.seq !== 14 && record.seq !== 15);
    const result = await verifyChain(records, options);
    expect(result).toMatchObject({
      ok: false,
      firstBadSeq: 14,
      checkedEntries: 13,
      problem: { code: 'AUDIT_CHAIN.SEQ_NOT_CONTIGUOUS' },
    });
    expect(result.problem?.message).toContain('14–15');
  });

  it('detects a repeated entry', async () => {
    const records = [...chain.records.slice(0, 6), chain.records[5], ...chain.records.slice(6)];
    const result = await verifyChain(records, options);
    expect(result).toMatchObject({ ok: false, firstBadSeq: 6, problem: { code: 'AUDIT_CHAIN.SEQ_NOT_CONTIGUOUS' } });
  });

  it('treats a missing entry without a purge record as tampering', async () => {
    const result = await verifyChain(replacing(9, { entry: null, purged: false }), options);
    expect(result).toMatchObject({ ok: false, firstBadSeq: 9, problem: { code: 'AUDIT_CHAIN.ENTRY_MISSING' } });
  });

  it('detects a checkpoint with a bad signature', async () => {
    const forged = chain.checkpoints.map((checkpoint) =>
      checkpoint.id === 4 ? { ...checkpoint, signature: Buffer.alloc(64, 1) } : checkpoint,
    );
    // Checkpoint 5 carries the real signature of 4 as `prev`, so the forged one breaks that link too; the
    // signature check comes first.
    const result = await verifyChain(chain.records, { ...options, checkpoints: forged });
    expect(result).toMatchObject({
      ok: false,
      firstBadSeq: null,
      problem: { code: 'AUDIT_CHAIN.CHECKPOINT_SIGNATURE_INVALID', checkpointId: 4 },
    });
  });

  it('detects a checkpoint body altered after signing, or stored fields that disagree with it', async () => {
    const bodyAltered = chain.checkpoints.map((checkpoint) =>
      checkpoint.id === 2
        ? { ...checkpoint, body: checkpoint.body.replace('size 10', 'size 11'), size: 11 }
        : checkpoint,
    );
    expect(await verifyChain(chain.records, { ...options, checkpoints: bodyAltered })).toMatchObject({
      ok: false,
      problem: { code: 'AUDIT_CHAIN.CHECKPOINT_SIGNATURE_INVALID', checkpointId: 2 },
    });
    const fieldAltered = chain.checkpoints.map((checkpoint) =>
      checkpoint.id === 2 ? { ...checkpoint, size: 11 } : checkpoint,
    );
    expect(await verifyChain(chain.records, { ...options, checkpoints: fieldAltered })).toMatchObject({
      ok: false,
      problem: { code: 'AUDIT_CHAIN.CHECKPOINT_MALFORMED', checkpointId: 2 },
    });
  });

  it('detects a checkpoint signed by a key that is not trusted', async () => {
    const result = await verifyChain(chain.records, {
      ...options,
      publicKeys: [auditSigningKeyFrom('some-other-key-material-0123456789').publicKey],
    });
    expect(result).toMatchObject({
      ok: false,
      problem: { code: 'AUDIT_CHAIN.CHECKPOINT_UNKNOWN_KEY', checkpointId: 1 },
    });
  });

  it('detects a checkpoint whose prev is not the previous signature', async () => {
    const withoutThird = chain.checkpoints.filter((checkpoint) => checkpoint.id !== 3);
    // A correctly signed checkpoint 3 that skips 2's signature (as if someone re-signed history with the key).
    const resigned: CheckpointRecord = createCheckpoint(
      {
        origin: FIXTURE_ORIGIN,
        id: 3,
        size: 10,
        head: chain.records[9].hash,
        time: '2026-11-20T09:02:00.000Z',
        prev: chain.checkpoints[0].signature,
        keyId: chain.key.keyId,
      },
      chain.key.privateKey,
    );
    const result = await verifyChain(chain.records, { ...options, checkpoints: [...withoutThird, resigned] });
    expect(result).toMatchObject({
      ok: false,
      problem: { code: 'AUDIT_CHAIN.CHECKPOINT_PREV_MISMATCH', checkpointId: 3 },
    });
  });

  it('detects a missing checkpoint and two versions of one', async () => {
    const gap = chain.checkpoints.filter((checkpoint) => checkpoint.id !== 2);
    expect(await verifyChain(chain.records, { ...options, checkpoints: gap })).toMatchObject({
      ok: false,
      problem: { code: 'AUDIT_CHAIN.CHECKPOINT_ID_GAP', checkpointId: 3 },
    });
    const twin = signSyntheticCheckpoint(chain.records, chain.checkpoints.slice(0, 3), 12, chain.key);
    expect(await verifyChain(chain.records, { ...options, checkpoints: [...chain.checkpoints, twin] })).toMatchObject({
      ok: false,
      problem: { code: 'AUDIT_CHAIN.CHECKPOINT_CONFLICT', checkpointId: 4 },
    });
  });

  it('detects a checkpoint of another origin', async () => {
    const result = await verifyChain(chain.records, { ...options, origin: 'another.district.test' });
    expect(result).toMatchObject({ ok: false, problem: { code: 'AUDIT_CHAIN.CHECKPOINT_ORIGIN_MISMATCH' } });
  });

  it('reports a truncated tail at the first missing entry', async () => {
    const result = await verifyChain(chain.records.slice(0, 27), options);
    expect(result).toMatchObject({
      ok: false,
      checkedEntries: 27,
      firstBadSeq: 28,
      problem: { code: 'AUDIT_CHAIN.TRUNCATED', checkpointId: 5, seq: 28 },
      lastCheckpoint: { id: 4, size: 25 },
    });
  });

  it('detects a consistent rewrite through the head a checkpoint signed before it', async () => {
    // Rewrite entry 5 and recompute every later hash: links and hashes all check out again.
    const rewritten: ChainRecord[] = [];
    let prev = GENESIS_HASH;
    for (const record of chain.records) {
      const text = record.entry as string | null;
      const entry = record.seq === 5 ? text!.replace('"allowed"', '"denied"') : text;
      const digest = entry === null ? record.entryHash : entryHash(entry);
      const hash = chainHash(prev, record.seq, digest);
      rewritten.push({ ...record, entry, entryHash: digest, prevHash: prev, hash });
      prev = hash;
    }
    expect(await verifyChain(rewritten, { publicKeys: keys })).toMatchObject({ ok: true });
    expect(await verifyChain(rewritten, options)).toMatchObject({
      ok: false,
      firstBadSeq: 10,
      problem: { code: 'AUDIT_CHAIN.CHECKPOINT_HEAD_MISMATCH', checkpointId: 2 },
    });
  });

  it('flags a checkpoint that shrinks the chain', async () => {
    const shrinking = signSyntheticCheckpoint(chain.records, chain.checkpoints, 20, chain.key);
    const result = await verifyChain(chain.records, { ...options, checkpoints: [...chain.checkpoints, shrinking] });
    expect(result).toMatchObject({
      ok: false,
      problem: { code: 'AUDIT_CHAIN.CHECKPOINT_SIZE_DECREASED', checkpointId: 6 },
    });
  });

  it('verifies a range from the hash before it, head-checking only the checkpoints inside it', async () => {
    const range = chain.records.slice(10, 25);
    const result = await verifyChain(range, { ...options, fromSeq: 11, toSeq: 25, prevHash: chain.records[9].hash });
    expect(result).toMatchObject({ ok: true, checkedEntries: 15, lastSeq: 25, lastCheckpoint: { id: 4 } });
    const wrongStart = await verifyChain(range, { ...options, fromSeq: 11, toSeq: 25, prevHash: Buffer.alloc(32, 9) });
    expect(wrongStart).toMatchObject({ ok: false, problem: { code: 'AUDIT_CHAIN.CHECKPOINT_HEAD_MISMATCH' } });
    const noCheckpoints = await verifyChain(range, { fromSeq: 11, toSeq: 25, prevHash: Buffer.alloc(32, 9) });
    expect(noCheckpoints).toMatchObject({ ok: false, firstBadSeq: 11, problem: { code: 'AUDIT_CHAIN.LINK_BROKEN' } });
  });
});
