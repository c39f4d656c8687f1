import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { exists, fileSha256, readIfExists, sha256Hex, writeAtomically } from './bundle-files.js';
import {
  BUNDLE_CHECKPOINTS,
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  BUNDLE_IO_CHUNK_BYTES,
  BUNDLE_MANIFEST,
  BUNDLE_PUBLIC_KEYS,
  DEFAULT_SEGMENT_ENTRIES,
  checkpointLine,
  eventLine,
  readBundleManifest,
  type BundleManifest,
  type BundleSegment,
} from './bundle-format.js';
import { AUDIT_CHAIN_VERSION, GENESIS_HASH } from './chain-hash.js';
import type { ChainRecord, ChainRecordSource } from './chain-verifier.js';
import { CHECKPOINT_FORMAT, type CheckpointRecord } from './checkpoint.js';
import type { PublishedAuditKey } from './signing-key.js';

/** Where an export reads from. Read `checkpoints` before `tipSeq`, so that no honest checkpoint lies past the tip. */
export interface BundleSource {
  origin: string;
  checkpoints: readonly CheckpointRecord[];
  publicKeys: readonly PublishedAuditKey[];
  /** The last seq to export. */
  tipSeq: number;
  /** The stored hash at a seq, or null when there is no such entry. */
  hashAt(seq: number): Promise<Buffer | null>;
  /** Records fromSeq..toSeq in seq order. */
  records(fromSeq: number, toSeq: number): ChainRecordSource;
}

export interface ExportBundleOptions {
  segmentEntries?: number;
  now?: () => Date;
  /**
   * Called once the entries are written and before the checkpoints and the manifest are: returns the
   * checkpoints the bundle holds in place of `source.checkpoints` (e.g. with one just signed over what was
   * written). Those past the last entry written are left out, so that the bundle never claims a tail it lacks.
   */
  finalCheckpoints?: (written: { lastSeq: number; headHash: Buffer }) => Promise<readonly CheckpointRecord[]>;
}

export interface ExportBundleResult {
  dir: string;
  /** Files created or replaced by this run (empty when the bundle was already up to date). */
  written: string[];
  lastSeq: number;
  newEntries: number;
  checkpoints: number;
}

/** The database no longer matches what an earlier export of it holds: a rewrite, a truncation or another log. */
export class BundleDivergedError extends Error {
  constructor(message: string) {
    super(`${message}. The bundle was left as it was; verify it and the database (audit verify) to see which changed`);
  }
}

/**
 * Writes or extends a bundle: `events-<first>-<last>.jsonl` segments (one line per entry, ids only: the entry
 * text is the canonical JSON the chain hashes, or null once purged), `checkpoints.jsonl`, `public-keys.json`
 * and `manifest.json` last. An existing bundle is continued from its last seq, after checking that the source
 * still has the same hash there and the same checkpoints; segments already written are never rewritten, so
 * exporting again with nothing new writes nothing (the bundle can live on write-once storage).
 */
export async function exportBundle(
  dir: string,
  source: BundleSource,
  options: ExportBundleOptions = {},
): Promise<ExportBundleResult> {
  const now = options.now ?? (() => new Date());
  const segmentEntries = options.segmentEntries ?? DEFAULT_SEGMENT_ENTRIES;
  await mkdir(dir, { recursive: true });
  const existing = await readBundleManifest(dir);
  if (existing && existing.origin !== source.origin) {
    throw new BundleDivergedError(`The bundle in ${dir} is of origin "${existing.origin}", not "${source.origin}"`);
  }
  const bundledLast = existing ? Number(existing.lastSeq) : 0;
  if (existing && bundledLast > 0) {
    if (source.tipSeq < bundledLast) {
      throw new BundleDivergedError(
        `The chain ends at entry ${source.tipSeq}, but the bundle already holds entries up to ${bundledLast}`,
      );
    }
    const stored = await source.hashAt(bundledLast);
    if (!stored || stored.toString('hex') !== existing.headHash) {
      throw new BundleDivergedError(`The chain's hash at entry ${bundledLast} differs from the bundle's`);
    }
  }

  // Checked before anything is written, so that a refused export leaves no stray segment behind.
  let checkpointsText = await mergeCheckpoints(dir, source.checkpoints);
  const keysText = await mergePublicKeys(dir, source.publicKeys);

  const written: string[] = [];
  const segments = [...(existing?.segments ?? [])];
  let headHash = existing?.headHash ?? GENESIS_HASH.toString('hex');
  let lastSeq = bundledLast;
  if (source.tipSeq > bundledLast) {
    const appended = await writeSegments(dir, source, bundledLast + 1, segmentEntries, headHash);
    for (const segment of appended.segments) {
      segments.push(segment.segment);
      if (segment.written) written.push(segment.segment.file);
    }
    if (appended.lastSeq > lastSeq) {
      lastSeq = appended.lastSeq;
      headHash = appended.headHash;
    }
  }

  let checkpoints = source.checkpoints;
  if (options.finalCheckpoints) {
    const final = await options.finalCheckpoints({ lastSeq, headHash: Buffer.from(headHash, 'hex') });
    checkpoints = final.filter((checkpoint) => checkpoint.size <= lastSeq);
    checkpointsText = await mergeCheckpoints(dir, checkpoints);
  }

  if (checkpointsText.changed) {
    await writeAtomically(join(dir, BUNDLE_CHECKPOINTS), checkpointsText.text);
    written.push(BUNDLE_CHECKPOINTS);
  }
  if (keysText.changed) {
    await writeAtomically(join(dir, BUNDLE_PUBLIC_KEYS), keysText.text);
    written.push(BUNDLE_PUBLIC_KEYS);
  }

  const at = now().toISOString();
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    chainVersion: AUDIT_CHAIN_VERSION,
    checkpointFormat: CHECKPOINT_FORMAT,
    origin: source.origin,
    createdAt: existing?.createdAt ?? at,
    updatedAt: existing?.updatedAt ?? at,
    firstSeq: lastSeq > 0 ? '1' : null,
    lastSeq: String(lastSeq),
    headHash,
    segments,
    checkpoints: {
      file: BUNDLE_CHECKPOINTS,
      count: checkpoints.length,
      sha256: sha256Hex(checkpointsText.text),
    },
    publicKeys: BUNDLE_PUBLIC_KEYS,
  };
  if (!existing || written.length > 0 || !sameManifest(existing, manifest)) {
    manifest.updatedAt = at;
    await writeAtomically(join(dir, BUNDLE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    written.push(BUNDLE_MANIFEST);
  }
  return { dir, written, lastSeq, newEntries: lastSeq - bundledLast, checkpoints: checkpoints.length };
}

async function writeSegments(
  dir: string,
  source: BundleSource,
  fromSeq: number,
  segmentEntries: number,
  expectedPrevHex: string,
): Promise<{ segments: { segment: BundleSegment; written: boolean }[]; lastSeq: number; headHash: string }> {
  const segments: { segment: BundleSegment; written: boolean }[] = [];
  let open: OpenSegment | null = null;
  let lastSeq = fromSeq - 1;
  let headHash = expectedPrevHex;
  const close = async (): Promise<void> => {
    if (!open) return;
    const finished = open;
    open = null;
    segments.push(await finished.close());
  };
  try {
    for await (const item of source.records(fromSeq, source.tipSeq)) {
      for (const record of Array.isArray(item) ? (item as readonly ChainRecord[]) : [item as ChainRecord]) {
        if (record.seq <= lastSeq || record.seq > source.tipSeq) continue;
        if (record.seq === fromSeq && record.prevHash.toString('hex') !== expectedPrevHex) {
          throw new BundleDivergedError(`Entry ${fromSeq} does not link to the bundle's last hash`);
        }
        open ??= new OpenSegment(dir, record.seq);
        await open.write(record);
        lastSeq = record.seq;
        headHash = record.hash.toString('hex');
        if (open.entries >= segmentEntries) await close();
      }
    }
    await close();
  } catch (error) {
    await open?.abort();
    throw error;
  }
  return { segments, lastSeq, headHash };
}

class OpenSegment {
  entries = 0;
  private lastSeq = 0;
  private readonly tmpPath: string;
  private readonly stream: WriteStream;
  private readonly digest = createHash('sha256');
  private buffered: string[] = [];
  private bufferedBytes = 0;

  constructor(
    private readonly dir: string,
    private readonly firstSeq: number,
  ) {
    this.tmpPath = join(dir, `.events-${firstSeq}.jsonl.${process.pid}.tmp`);
    this.stream = createWriteStream(this.tmpPath, { flags: 'w' });
  }

  async write(record: ChainRecord): Promise<void> {
    const line = `${eventLine(record)}\n`;
    this.buffered.push(line);
    this.bufferedBytes += line.length;
    this.entries += 1;
    this.lastSeq = record.seq;
    if (this.bufferedBytes >= BUNDLE_IO_CHUNK_BYTES) await this.flush();
  }

  async close(): Promise<{ segment: BundleSegment; written: boolean }> {
    await this.flush();
    await new Promise<void>((resolve, reject) =>
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    const file = `events-${this.firstSeq}-${this.lastSeq}.jsonl`;
    const sha256 = this.digest.digest('hex');
    const target = join(this.dir, file);
    const segment: BundleSegment = {
      file,
      firstSeq: String(this.firstSeq),
      lastSeq: String(this.lastSeq),
      entries: this.entries,
      sha256,
    };
    if (await exists(target)) {
      await rm(this.tmpPath, { force: true });
      // A run that stopped after writing this segment but before its manifest left it behind.
      if ((await fileSha256(target)) !== sha256) {
        throw new BundleDivergedError(`${file} already exists with other content`);
      }
      return { segment, written: false };
    }
    await rename(this.tmpPath, target);
    return { segment, written: true };
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await rm(this.tmpPath, { force: true });
  }

  private async flush(): Promise<void> {
    if (this.buffered.length === 0) return;
    const chunk = this.buffered.join('');
    this.buffered = [];
    this.bufferedBytes = 0;
    this.digest.update(chunk, 'utf8');
    if (!this.stream.write(chunk, 'utf8')) {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        this.stream.once('error', onError);
        this.stream.once('drain', () => {
          this.stream.off('error', onError);
          resolve();
        });
      });
    }
  }
}

/** checkpoints.jsonl: what the bundle has must be a prefix of what the source has (checkpoints are append-only). */
async function mergeCheckpoints(
  dir: string,
  checkpoints: readonly CheckpointRecord[],
): Promise<{ text: string; changed: boolean }> {
  const sorted = [...checkpoints].sort((left, right) => left.id - right.id);
  const lines = sorted.map((checkpoint) => checkpointLine(checkpoint));
  const text = lines.map((line) => `${line}\n`).join('');
  const previous = await readIfExists(join(dir, BUNDLE_CHECKPOINTS));
  if (previous === null) return { text, changed: true };
  const previousLines = previous.split('\n').filter((line) => line !== '');
  previousLines.forEach((line, index) => {
    if (lines[index] !== line) {
      const id = index < sorted.length ? sorted[index].id : index + 1;
      throw new BundleDivergedError(
        index < lines.length
          ? `Checkpoint ${id} differs from the one the bundle already holds`
          : `The bundle holds checkpoint ${id}, which the source no longer has`,
      );
    }
  });
  return { text, changed: previous !== text };
}

async function mergePublicKeys(
  dir: string,
  keys: readonly PublishedAuditKey[],
): Promise<{ text: string; changed: boolean }> {
  const previous = await readIfExists(join(dir, BUNDLE_PUBLIC_KEYS));
  const merged = new Map<string, PublishedAuditKey>();
  if (previous !== null) {
    const parsed = JSON.parse(previous) as { keys?: PublishedAuditKey[] };
    // Keys dropped from the configuration stay listed: checkpoints they signed are still in the bundle.
    for (const key of parsed.keys ?? []) merged.set(key.keyId, { ...key, current: false });
  }
  for (const key of keys) merged.set(key.keyId, key);
  const text = `${JSON.stringify({ keys: [...merged.values()] }, null, 2)}\n`;
  return { text, changed: previous !== text };
}

function sameManifest(left: BundleManifest, right: BundleManifest): boolean {
  const strip = ({ updatedAt: _updatedAt, ...rest }: BundleManifest): Omit<BundleManifest, 'updatedAt'> => rest;
  return JSON.stringify(strip(left)) === JSON.stringify(strip(right));
}
