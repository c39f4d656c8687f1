import type * as AuditChain from '@app/audit-chain';
import {
  chainHash,
  exportBundle,
  publicKeyPem,
  publishAuditKey,
  verifyBundle,
  type BundleVerification,
} from '@app/audit-chain';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_ORIGIN, syntheticChain } from '../../libs/audit-chain/synthetic-chain.fake.js';

// Segment threads start from the build's worker module (npm test builds first), as the CLI runs them; from the
// TypeScript sources `verifyBundle` checks everything on its own thread. Both must reach the same verdict.
const built = (await import(join(import.meta.dirname, '../../dist/libs/audit-chain/index.js'))) as typeof AuditChain;

const chain = syntheticChain(60, { purged: [4, 27], checkpointSizes: [12, 30, 41, 60] });
const trusted = [publicKeyPem(chain.key.publicKey)];
const dirs: string[] = [];
let exported: string;

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'audit-threads-'));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  exported = tempDir();
  await exportBundle(
    exported,
    {
      origin: FIXTURE_ORIGIN,
      checkpoints: chain.checkpoints,
      publicKeys: [publishAuditKey(chain.key, true)],
      tipSeq: 60,
      hashAt: (seq) => Promise.resolve(chain.records[seq - 1]?.hash ?? null),
      records: (from, to) => [chain.records.slice(from - 1, to)],
    },
    { segmentEntries: 10 },
  );
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function alteredCopy(change: (dir: string) => void): string {
  const dir = tempDir();
  cpSync(exported, dir, { recursive: true });
  change(dir);
  return dir;
}

function rewriteLines(dir: string, file: string, change: (lines: Record<string, unknown>[]) => void): void {
  const lines = readFileSync(join(dir, file), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  change(lines);
  writeFileSync(join(dir, file), `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
}

/** Verified on three threads, on one, and from the sources: the same verdict apart from the thread count. */
async function verifiedEveryWay(dir: string): Promise<BundleVerification> {
  const threaded = await built.verifyBundle(dir, trusted, { threads: 3 });
  const single = await built.verifyBundle(dir, trusted, { threads: 1 });
  expect(threaded.threads).toBe(3);
  expect(single.threads).toBe(1);
  expect({ ...threaded, threads: 1 }).toEqual(single);
  expect(await verifyBundle(dir, trusted)).toEqual(single);
  return threaded;
}

describe('offline bundle verification on several threads', () => {
  it('passes a clean bundle of six segments through every checkpoint', async () => {
    expect(await verifiedEveryWay(exported)).toMatchObject({
      ok: true,
      checkedEntries: 60,
      purgedEntries: 2,
      lastCheckpoint: { id: 4, size: 60 },
    });
  });

  const cases: [string, (dir: string) => void, Partial<BundleVerification>][] = [
    [
      'an edited entry',
      (dir) =>
        rewriteLines(dir, 'events-21-30.jsonl', (lines) => {
          lines[4].entry = (lines[4].entry as string).replace('"allowed"', '"denied"');
        }),
      {
        firstBadSeq: 25,
        checkedEntries: 24,
        problem: expect.objectContaining({ code: 'AUDIT_CHAIN.ENTRY_ALTERED' }) as never,
      },
    ],
    [
      'a line removed inside a segment',
      (dir) => rewriteLines(dir, 'events-31-40.jsonl', (lines) => lines.splice(3, 1)),
      { firstBadSeq: 34, problem: expect.objectContaining({ code: 'AUDIT_CHAIN.SEQ_NOT_CONTIGUOUS' }) as never },
    ],
    [
      'a segment rewritten consistently from another starting hash',
      (dir) =>
        rewriteLines(dir, 'events-31-40.jsonl', (lines) => {
          let prev: Buffer = Buffer.alloc(32, 0x11);
          for (const line of lines) {
            line.prevHash = prev.toString('hex');
            prev = chainHash(prev, Number(line.seq), Buffer.from(line.entryHash as string, 'hex'));
            line.hash = prev.toString('hex');
          }
        }),
      { firstBadSeq: 31, problem: expect.objectContaining({ code: 'AUDIT_CHAIN.LINK_BROKEN' }) as never },
    ],
    [
      'a hand-made purge only the manifest digest shows',
      (dir) =>
        rewriteLines(dir, 'events-51-60.jsonl', (lines) => {
          lines[2].entry = null;
          lines[2].purged = true;
        }),
      { firstBadSeq: 51, problem: expect.objectContaining({ code: 'AUDIT_BUNDLE.DIGEST_MISMATCH' }) as never },
    ],
    [
      'a segment replaced by another one',
      (dir) => cpSync(join(dir, 'events-11-20.jsonl'), join(dir, 'events-21-30.jsonl')),
      { firstBadSeq: 11, problem: expect.objectContaining({ code: 'AUDIT_CHAIN.SEQ_NOT_CONTIGUOUS' }) as never },
    ],
    [
      'a missing segment',
      (dir) => rmSync(join(dir, 'events-31-40.jsonl')),
      { firstBadSeq: 31, problem: expect.objectContaining({ code: 'AUDIT_BUNDLE.SEGMENT_MISSING' }) as never },
    ],
  ];
  for (const [what, change, expected] of cases) {
    it(`names the same problem for ${what}`, async () => {
      const result = await verifiedEveryWay(alteredCopy(change));
      expect(result).toMatchObject({ ok: false, ...expected });
    });
  }
});
