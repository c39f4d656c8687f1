import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleDivergedError, exportBundle, type BundleSource } from './bundle-export.js';
import { eventLine, parseEventLine, readEventLineFast, type BundleManifest } from './bundle-format.js';
import { readBundleCheckpoints, verifyBundle } from './bundle-verify.js';
import type { ChainRecord } from './chain-verifier.js';
import type { CheckpointRecord } from './checkpoint.js';
import { publicKeyPem, publishAuditKey } from './signing-key.js';
import {
  FIXTURE_ORIGIN,
  signSyntheticCheckpoint,
  syntheticChain,
  type SyntheticChain,
} from './synthetic-chain.fake.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'audit-bundle-spec-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The chain as an export sees it: its first `tip` records and the checkpoints signed so far. */
function source(chain: SyntheticChain, tip: number, checkpoints: CheckpointRecord[] = chain.checkpoints): BundleSource {
  return {
    origin: FIXTURE_ORIGIN,
    checkpoints,
    publicKeys: [publishAuditKey(chain.key, true)],
    tipSeq: tip,
    hashAt: (seq) => Promise.resolve(chain.records[seq - 1]?.hash ?? null),
    records: (from, to) => [chain.records.slice(from - 1, to)],
  };
}

function manifestOf(dir: string): BundleManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as BundleManifest;
}

function snapshot(dir: string): Record<string, number> {
  return Object.fromEntries(readdirSync(dir).map((file) => [file, statSync(join(dir, file)).mtimeMs]));
}

describe('audit bundle', () => {
  const chain = syntheticChain(45, { purged: [2, 30], checkpointSizes: [12, 30, 45] });
  const trusted = [publicKeyPem(chain.key.publicKey)];

  it('exports segments, checkpoints, keys and a manifest that verify offline', async () => {
    const dir = tempDir();
    const result = await exportBundle(dir, source(chain, 45), { segmentEntries: 20 });
    expect(result).toMatchObject({ lastSeq: 45, newEntries: 45, checkpoints: 3 });
    expect(readdirSync(dir).sort()).toEqual([
      'checkpoints.jsonl',
      'events-1-20.jsonl',
      'events-21-40.jsonl',
      'events-41-45.jsonl',
      'manifest.json',
      'public-keys.json',
    ]);
    const manifest = manifestOf(dir);
    expect(manifest).toMatchObject({
      format: 'homeroom-audit-bundle',
      formatVersion: 1,
      chainVersion: 1,
      origin: FIXTURE_ORIGIN,
      firstSeq: '1',
      lastSeq: '45',
      headHash: chain.records[44].hash.toString('hex'),
      checkpoints: { file: 'checkpoints.jsonl', count: 3 },
    });
    const segmentBytes = readFileSync(join(dir, 'events-21-40.jsonl'));
    expect(manifest.segments[1]).toEqual({
      file: 'events-21-40.jsonl',
      firstSeq: '21',
      lastSeq: '40',
      entries: 20,
      sha256: createHash('sha256').update(segmentBytes).digest('hex'),
    });
    const lines = segmentBytes.toString('utf8').trimEnd().split('\n');
    expect(JSON.parse(lines[9])).toEqual({
      seq: '30',
      entryHash: chain.records[29].entryHash.toString('hex'),
      prevHash: chain.records[28].hash.toString('hex'),
      hash: chain.records[29].hash.toString('hex'),
      entry: null,
      purged: true,
    });
    expect(JSON.parse(lines[0]).entry).toBe(chain.records[20].entry);

    const verification = await verifyBundle(dir, trusted);
    expect(verification).toMatchObject({
      ok: true,
      checkedEntries: 45,
      purgedEntries: 2,
      lastCheckpoint: { id: 3, size: 45 },
      bundle: { origin: FIXTURE_ORIGIN, lastSeq: 45, segments: 3, checkpoints: 3 },
    });
  });

  it('writes nothing when exported again with nothing new, and only the tail when entries were added', async () => {
    const dir = tempDir();
    const firstCheckpoints = chain.checkpoints.slice(0, 2);
    await exportBundle(dir, source(chain, 33, firstCheckpoints), { segmentEntries: 20 });
    const before = snapshot(dir);
    const again = await exportBundle(dir, source(chain, 33, firstCheckpoints), { segmentEntries: 20 });
    expect(again.written).toEqual([]);
    expect(snapshot(dir)).toEqual(before);

    const extended = await exportBundle(dir, source(chain, 45), { segmentEntries: 20 });
    expect(extended.written.sort()).toEqual(['checkpoints.jsonl', 'events-34-45.jsonl', 'manifest.json']);
    expect(manifestOf(dir).segments.map((segment) => segment.file)).toEqual([
      'events-1-20.jsonl',
      'events-21-33.jsonl',
      'events-34-45.jsonl',
    ]);
    expect(statSync(join(dir, 'events-21-33.jsonl')).mtimeMs).toBe(before['events-21-33.jsonl']);
    expect(await verifyBundle(dir, trusted)).toMatchObject({ ok: true, checkedEntries: 45 });
    expect(await readBundleCheckpoints(dir)).toHaveLength(3);
  });

  it('refuses to extend a bundle whose chain or checkpoints the source no longer has', async () => {
    const dir = tempDir();
    await exportBundle(dir, source(chain, 30, chain.checkpoints.slice(0, 2)));
    const before = snapshot(dir);

    const rewritten = syntheticChain(45, { purged: [2, 30], checkpointSizes: [12, 30, 45] });
    rewritten.records[29] = { ...rewritten.records[29], hash: Buffer.alloc(32, 5) };
    await expect(exportBundle(dir, source(rewritten, 45, chain.checkpoints))).rejects.toThrow(BundleDivergedError);
    await expect(exportBundle(dir, source(chain, 25, chain.checkpoints.slice(0, 2)))).rejects.toThrow(
      /ends at entry 25/,
    );
    await expect(exportBundle(dir, source(chain, 45, chain.checkpoints.slice(0, 1)))).rejects.toThrow(
      /holds checkpoint 2, which the source no longer has/,
    );
    const resigned = signSyntheticCheckpoint(chain.records, chain.checkpoints.slice(0, 1), 31, chain.key);
    await expect(
      exportBundle(dir, source(chain, 45, [chain.checkpoints[0], resigned, chain.checkpoints[2]])),
    ).rejects.toThrow(/Checkpoint 2 differs/);
    expect(snapshot(dir)).toEqual(before);
  });

  describe('offline verification of an altered copy', () => {
    const exported = tempDir();
    const ready = exportBundle(exported, source(chain, 45), { segmentEntries: 20 });

    async function alteredCopy(change: (dir: string) => void): Promise<string> {
      await ready;
      const dir = tempDir();
      cpSync(exported, dir, { recursive: true });
      change(dir);
      return dir;
    }
    function editLine(dir: string, file: string, index: number, edit: (line: Record<string, unknown>) => void): void {
      const lines = readFileSync(join(dir, file), 'utf8').trimEnd().split('\n');
      const line = JSON.parse(lines[index]) as Record<string, unknown>;
      edit(line);
      lines[index] = JSON.stringify(line);
      writeFileSync(join(dir, file), `${lines.join('\n')}\n`);
    }

    it('names the seq of an edited entry', async () => {
      const dir = await alteredCopy((copy) =>
        editLine(copy, 'events-21-40.jsonl', 4, (line) => {
          line.entry = (line.entry as string).replace('"allowed"', '"denied"');
        }),
      );
      expect(await verifyBundle(dir, trusted)).toMatchObject({
        ok: false,
        firstBadSeq: 25,
        checkedEntries: 24,
        problem: { code: 'AUDIT_CHAIN.ENTRY_ALTERED' },
      });
    });

    it('shows a hand-made purge (text dropped, hashes kept) only through the manifest digest', async () => {
      const dir = await alteredCopy((copy) =>
        editLine(copy, 'events-1-20.jsonl', 6, (line) => {
          line.entry = null;
          line.purged = true;
        }),
      );
      // Dropping the text keeps the hashes, so the chain verifies; the manifest digest shows the file changed.
      expect(await verifyBundle(dir, trusted)).toMatchObject({
        ok: false,
        firstBadSeq: 1,
        problem: { code: 'AUDIT_BUNDLE.DIGEST_MISMATCH' },
      });
    });

    it('reports a truncated tail when the last segment is gone from the manifest', async () => {
      const dir = await alteredCopy((copy) => {
        const manifest = manifestOf(copy);
        manifest.segments.pop();
        manifest.lastSeq = '40';
        writeFileSync(join(copy, 'manifest.json'), JSON.stringify(manifest));
        rmSync(join(copy, 'events-41-45.jsonl'));
      });
      expect(await verifyBundle(dir, trusted)).toMatchObject({
        ok: false,
        firstBadSeq: 41,
        problem: { code: 'AUDIT_CHAIN.TRUNCATED', checkpointId: 3 },
      });
    });

    it('reports a missing segment file', async () => {
      const dir = await alteredCopy((copy) => rmSync(join(copy, 'events-21-40.jsonl')));
      expect(await verifyBundle(dir, trusted)).toMatchObject({
        ok: false,
        firstBadSeq: 21,
        problem: { code: 'AUDIT_BUNDLE.SEGMENT_MISSING' },
      });
    });

    it('reports a checkpoint whose signature no longer verifies', async () => {
      const dir = await alteredCopy((copy) =>
        editLine(copy, 'checkpoints.jsonl', 1, (line) => {
          line.body = (line.body as string).replace('size 30', 'size 29');
          line.size = '29';
        }),
      );
      expect(await verifyBundle(dir, trusted)).toMatchObject({
        ok: false,
        problem: { code: 'AUDIT_CHAIN.CHECKPOINT_SIGNATURE_INVALID', checkpointId: 2 },
      });
    });

    it('trusts only the keys it is given, not the bundle’s own key file', async () => {
      await ready;
      const stranger = syntheticChain(1, { keyMaterial: 'a-stranger-key-material-0123456789abc' });
      expect(await verifyBundle(exported, [publicKeyPem(stranger.key.publicKey)])).toMatchObject({
        ok: false,
        problem: { code: 'AUDIT_CHAIN.CHECKPOINT_UNKNOWN_KEY' },
      });
      expect(await verifyBundle(exported, [])).toMatchObject({
        ok: false,
        problem: { code: 'AUDIT_BUNDLE.NO_TRUSTED_KEY' },
      });
    });

    it('reports a line that is not an event', async () => {
      const dir = await alteredCopy((copy) => {
        const file = join(copy, 'events-1-20.jsonl');
        writeFileSync(file, readFileSync(file, 'utf8').replace(/\n/, '\n{"seq":"2"}\n'));
      });
      expect(await verifyBundle(dir, trusted)).toMatchObject({
        ok: false,
        problem: { code: 'AUDIT_BUNDLE.LINE_INVALID' },
      });
    });

    it('reports a directory that is not a bundle', async () => {
      expect(await verifyBundle(tempDir(), trusted)).toMatchObject({
        ok: false,
        problem: { code: 'AUDIT_BUNDLE.UNREADABLE' },
      });
      const dir = await alteredCopy((copy) => writeFileSync(join(copy, 'manifest.json'), '{"format":"zip"}'));
      expect(await verifyBundle(dir, trusted)).toMatchObject({
        ok: false,
        problem: { code: 'AUDIT_BUNDLE.MANIFEST_INVALID' },
      });
    });
  });

  it('digests a large segment on another thread, and still notices a change the chain cannot see', async () => {
    const large = syntheticChain(14_000, { checkpointSizes: [14_000] });
    const dir = tempDir();
    await exportBundle(dir, source(large, 14_000));
    const segment = join(dir, 'events-1-14000.jsonl');
    expect(statSync(segment).size).toBeGreaterThan(8 << 20);
    const keys = [publicKeyPem(large.key.publicKey)];
    expect(await verifyBundle(dir, keys)).toMatchObject({ ok: true, checkedEntries: 14_000 });

    // Marking an entry as purged while keeping its text changes no hash, only the file.
    const text = readFileSync(segment, 'utf8');
    writeFileSync(segment, text.replace('"purged":false}\n{"seq":"5000"', '"purged":true}\n{"seq":"5000"'));
    expect(await verifyBundle(dir, keys)).toMatchObject({
      ok: false,
      firstBadSeq: 1,
      problem: { code: 'AUDIT_BUNDLE.DIGEST_MISMATCH' },
    });
  });

  it('reads the fast line layout exactly as a full JSON parse does, and leaves anything else to it', () => {
    const records: ChainRecord[] = syntheticChain(3, { purged: [2] }).records;
    for (const record of records) {
      const line = Buffer.from(`${eventLine(record)}\n`);
      const fast = readEventLineFast(line, 0, line.length - 1, null);
      expect(fast).toEqual(parseEventLine(line.toString('utf8', 0, line.length - 1), 'f', 1));
      expect(fast).toEqual(record);
    }
    const spaced = Buffer.from(JSON.stringify(JSON.parse(eventLine(records[0])), null, 1).replace(/\n/g, ''));
    expect(readEventLineFast(spaced, 0, spaced.length, null)).toBeNull();
    expect(parseEventLine(spaced.toString(), 'f', 1)).toEqual(records[0]);
    const upper = Buffer.from(
      eventLine(records[0]).replace(/"hash":"([0-9a-f]+)"/, (_m, hex: string) => `"hash":"${hex.toUpperCase()}"`),
    );
    expect(readEventLineFast(upper, 0, upper.length, null)).toBeNull();
    expect(() => parseEventLine(upper.toString(), 'f', 1)).toThrow(/64 lowercase hex/);
  });
});
