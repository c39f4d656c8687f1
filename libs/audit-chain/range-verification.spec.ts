import { describe, expect, it } from 'vitest';
import { chainHash, entryHash } from './chain-hash.js';
import { verifyChain, type ChainRecord, type CheckedRange } from './chain-verifier.js';
import { verifyChainInRanges, type RangeCheckingSource } from './range-verification.js';
import { signSyntheticCheckpoint, syntheticChain } from './synthetic-chain.fake.js';

/**
 * Stored records that check a run in place the way the database does: every seq present, links within the
 * run, text against entry hash (or a purge record), recomputed hash. Counts the records read one by one.
 */
class StoredChain implements RangeCheckingSource {
  recordsRead = 0;

  constructor(private readonly stored: readonly ChainRecord[]) {}

  checkRange(first: number, last: number, headSeqs: readonly number[]): Promise<CheckedRange | null> {
    const run = this.stored.filter((record) => record.seq >= first && record.seq <= last);
    const clean =
      run.length === last - first + 1 &&
      run.every((record, index) => {
        const linked = index === 0 || record.prevHash.equals(run[index - 1].hash);
        const text = record.entry === null ? record.purged : entryHash(record.entry as string).equals(record.entryHash);
        return linked && text && chainHash(record.prevHash, record.seq, record.entryHash).equals(record.hash);
      });
    if (!clean) return Promise.resolve(null);
    return Promise.resolve({
      firstSeq: first,
      lastSeq: last,
      firstPrevHash: run[0].prevHash,
      lastHash: run.at(-1)!.hash,
      purged: run.filter((record) => record.entry === null).length,
      hashesAt: new Map(headSeqs.map((seq) => [seq, run[seq - first].hash])),
    });
  }

  *records(first: number, last: number): Iterable<ChainRecord> {
    for (const record of this.stored) {
      if (record.seq < first || record.seq > last) continue;
      this.recordsRead += 1;
      yield record;
    }
  }
}

const LENGTH = 100;
const RANGE = 10;

function tampered(change: (records: ChainRecord[]) => void, checkpointSizes = [25, 60]) {
  const chain = syntheticChain(LENGTH, { purged: [7, 33], checkpointSizes });
  const records = chain.records.map((record) => ({ ...record }));
  change(records);
  return { chain, records };
}

async function both(records: ChainRecord[], options: Parameters<typeof verifyChain>[1]) {
  const stored = new StoredChain(records);
  const lastSeq = records.reduce((max, record) => Math.max(max, record.seq), 0);
  const byRanges = await verifyChainInRanges(stored, { ...options, lastSeq, rangeSize: RANGE });
  const oneByOne = await verifyChain(
    records.filter((record) => record.seq >= (options?.fromSeq ?? 1)),
    options,
  );
  return { byRanges, oneByOne, recordsRead: stored.recordsRead };
}

describe('verifyChainInRanges', () => {
  it('passes a clean chain with purged entries and checkpoints without reading a record', async () => {
    const { chain, records } = tampered(() => undefined);
    const result = await both(records, { checkpoints: chain.checkpoints, publicKeys: [chain.key.publicKey] });
    expect(result.byRanges).toMatchObject({ ok: true, checkedEntries: LENGTH, purgedEntries: 2, lastSeq: LENGTH });
    expect(result.byRanges.lastCheckpoint?.id).toBe(2);
    expect(result.byRanges).toEqual(result.oneByOne);
    expect(result.recordsRead).toBe(0);
  });

  const cases: [string, (records: ChainRecord[]) => void][] = [
    ['an altered entry text', (records) => (records[41].entry = (records[41].entry as string).replace('req', 'REQ'))],
    ['an altered hash', (records) => (records[54].hash = Buffer.alloc(32, 7))],
    [
      'a link broken at a run boundary, each run consistent in itself',
      (records) => {
        let prev: Buffer = Buffer.alloc(32, 9);
        for (let index = 70; index < records.length; index += 1) {
          records[index].prevHash = prev;
          records[index].hash = chainHash(prev, records[index].seq, records[index].entryHash);
          prev = records[index].hash;
        }
      },
    ],
    ['an entry removed inside a run', (records) => records.splice(44, 1)],
    ['the last entry of a run removed', (records) => records.splice(49, 1)],
    ['a whole run removed', (records) => records.splice(50, RANGE)],
    ['a text missing without a purge record', (records) => (records[12].entry = null)],
  ];
  for (const [what, change] of cases) {
    it(`names the same problem and seq as a record-by-record check for ${what}`, async () => {
      const { chain, records } = tampered(change);
      const result = await both(records, { checkpoints: chain.checkpoints, publicKeys: [chain.key.publicKey] });
      expect(result.byRanges.ok).toBe(false);
      expect(result.byRanges).toEqual(result.oneByOne);
      expect(result.recordsRead).toBeLessThanOrEqual(2 * RANGE);
    });
  }

  it('catches a consistent rewrite through the checkpoint head inside a clean-looking run', async () => {
    const { chain, records } = tampered((records) => {
      records[22].entry = (records[22].entry as string).replace('req', 'REQ');
      let prev = records[21].hash;
      for (let index = 22; index < records.length; index += 1) {
        const entry = records[index].entry;
        if (typeof entry === 'string') records[index].entryHash = entryHash(entry);
        records[index].hash = chainHash(prev, records[index].seq, records[index].entryHash);
        records[index].prevHash = prev;
        prev = records[index].hash;
      }
    });
    const result = await both(records, { checkpoints: chain.checkpoints, publicKeys: [chain.key.publicKey] });
    expect(result.byRanges.problem?.code).toBe('AUDIT_CHAIN.CHECKPOINT_HEAD_MISMATCH');
    expect(result.byRanges).toEqual(result.oneByOne);
  });

  it('reports a tail cut below the last checkpoint, and checks a sub-range from the hash before it', async () => {
    const { chain, records } = tampered((records) => records.splice(55));
    const cut = await both(records, { checkpoints: chain.checkpoints, publicKeys: [chain.key.publicKey] });
    expect(cut.byRanges).toMatchObject({ ok: false, problem: { code: 'AUDIT_CHAIN.TRUNCATED' }, firstBadSeq: 56 });
    expect(cut.byRanges).toEqual(cut.oneByOne);

    const later = signSyntheticCheckpoint(chain.records, chain.checkpoints, 95, chain.key);
    const options = {
      checkpoints: [...chain.checkpoints, later],
      publicKeys: [chain.key.publicKey],
      fromSeq: 31,
      prevHash: chain.records[29].hash,
      toSeq: 97,
    };
    const range = await both(chain.records, options);
    expect(range.byRanges).toMatchObject({ ok: true, checkedEntries: 67, lastSeq: 97, lastCheckpoint: { id: 3 } });
    expect(range.byRanges).toEqual(range.oneByOne);
  });
});
