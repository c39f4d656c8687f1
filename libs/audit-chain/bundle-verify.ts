import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { sha256Hex } from './bundle-files.js';
import {
  BUNDLE_CHECKPOINTS,
  BUNDLE_IO_CHUNK_BYTES,
  BUNDLE_MANIFEST,
  BundleFormatError,
  parseCheckpointLines,
  parseEventLine,
  readBundleManifest,
  readEventLineFast,
  type BundleManifest,
  type BundleSegment,
} from './bundle-format.js';
import {
  ChainVerifier,
  type ChainProblem,
  type ChainProblemCode,
  type ChainRecord,
  type ChainVerification,
  type CheckedRange,
} from './chain-verifier.js';
import type { CheckpointRecord } from './checkpoint.js';

const NEWLINE = 0x0a;

export interface BundleVerification extends ChainVerification {
  bundle: { origin: string; lastSeq: number; segments: number; checkpoints: number } | null;
  /** Threads that checked segments (1: all on the calling thread). */
  threads: number;
}

export interface VerifyBundleOptions {
  /**
   * Threads that check segments side by side (default: the machine's cores). Each segment is checked on its own,
   * then joined to the chain here; a segment that fails is read again on this thread to name the problem. 1
   * checks everything on this thread.
   */
  threads?: number;
}

/**
 * Verifies a bundle offline: every segment line through the chain checks, every checkpoint's signature against
 * the trusted keys given here (never the bundle's own `public-keys.json`, which whoever altered the bundle
 * could replace), each checkpoint's head on the chain, and the files against the manifest's digests.
 */
export async function verifyBundle(
  dir: string,
  trustedKeys: readonly (string | KeyObject)[],
  options: VerifyBundleOptions = {},
): Promise<BundleVerification> {
  let manifest: BundleManifest;
  try {
    const found = await readBundleManifest(dir);
    if (!found) return failure('AUDIT_BUNDLE.UNREADABLE', `No ${BUNDLE_MANIFEST} in ${dir}`);
    manifest = found;
  } catch (error) {
    if (error instanceof BundleFormatError) return failure(error.code, error.message);
    return failure('AUDIT_BUNDLE.UNREADABLE', `Cannot read the bundle: ${(error as Error).message}`);
  }
  const summary = {
    origin: manifest.origin,
    lastSeq: Number(manifest.lastSeq),
    segments: manifest.segments.length,
    checkpoints: manifest.checkpoints.count,
  };
  if (trustedKeys.length === 0) {
    return { ...failure('AUDIT_BUNDLE.NO_TRUSTED_KEY', 'Give at least one trusted public key'), bundle: summary };
  }
  let checkpoints: CheckpointRecord[];
  let checkpointsText: string;
  try {
    checkpointsText = await readFile(join(dir, manifest.checkpoints.file), 'utf8');
    checkpoints = parseCheckpointLines(checkpointsText);
  } catch (error) {
    if (error instanceof BundleFormatError) return { ...failure(error.code, error.message), bundle: summary };
    return {
      ...failure('AUDIT_BUNDLE.UNREADABLE', `Cannot read ${manifest.checkpoints.file}: ${(error as Error).message}`),
      bundle: summary,
    };
  }
  if (checkpoints.length !== manifest.checkpoints.count) {
    return {
      ...failure(
        'AUDIT_BUNDLE.CHECKPOINT_COUNT_MISMATCH',
        `${manifest.checkpoints.file} holds ${checkpoints.length} checkpoints; the manifest lists ${manifest.checkpoints.count}`,
      ),
      bundle: summary,
    };
  }

  // Origins are not compared: each signature covers its origin already, and renaming AUDIT_ORIGIN must not make
  // older checkpoints look forged.
  const verifier = new ChainVerifier({ checkpoints, publicKeys: trustedKeys });
  if (verifier.failed) return { ...verifier.result(), bundle: summary, threads: 1 };
  const threads = Math.min(options.threads ?? availableParallelism(), manifest.segments.length);
  const pool = threads > 1 ? SegmentCheckPool.start(threads) : null;
  const used = pool ? threads : 1;
  try {
    const checks = pool
      ? manifest.segments.map((segment) =>
          pool.check(
            join(dir, segment.file),
            Number(segment.firstSeq),
            verifier.headSeqsWithin(Number(segment.firstSeq), Number(segment.lastSeq)),
          ),
        )
      : [];
    for (const [index, segment] of manifest.segments.entries()) {
      try {
        const checked = await checks[index];
        let digest: string;
        if (checked && checked.range.lastSeq === Number(segment.lastSeq) && verifier.acceptRange(checked.range)) {
          digest = checked.digest;
        } else {
          digest = await feedSegment(join(dir, segment.file), segment, verifier);
          if (verifier.failed) return { ...verifier.result(), bundle: summary, threads: used };
        }
        if (verifier.result().lastSeq !== Number(segment.lastSeq)) {
          throw new BundleFormatError(
            'AUDIT_BUNDLE.SEGMENT_RANGE_MISMATCH',
            `${segment.file} ends at entry ${verifier.result().lastSeq}, not ${segment.lastSeq}`,
            verifier.result().lastSeq + 1,
          );
        }
        if (digest !== segment.sha256) {
          throw new BundleFormatError(
            'AUDIT_BUNDLE.DIGEST_MISMATCH',
            `${segment.file} does not match its SHA-256 in the manifest`,
            Number(segment.firstSeq),
          );
        }
      } catch (error) {
        const problem = asProblem(error, segment);
        const result = verifier.result();
        return { ...result, ok: false, firstBadSeq: problem.seq ?? null, problem, bundle: summary, threads: used };
      }
    }
  } finally {
    await pool?.close();
  }
  const result = verifier.finish();
  if (result.ok && sha256Hex(checkpointsText) !== manifest.checkpoints.sha256) {
    const problem: ChainProblem = {
      code: 'AUDIT_BUNDLE.DIGEST_MISMATCH',
      message: `${manifest.checkpoints.file} does not match its SHA-256 in the manifest`,
    };
    return { ...result, ok: false, problem, bundle: summary, threads: used };
  }
  return { ...result, bundle: summary, threads: used };
}

/** The checkpoints an earlier export holds, e.g. to check the database against what was handed out. */
export async function readBundleCheckpoints(dir: string): Promise<CheckpointRecord[]> {
  return parseCheckpointLines(await readFile(join(dir, BUNDLE_CHECKPOINTS), 'utf8'));
}

/**
 * Streams one segment into the verifier; resolves to the file's SHA-256 (hex). A large segment is digested on
 * another thread while this one parses and hashes its entries: the file digest is a third SHA-256 over every
 * byte, which would otherwise cost this thread about a tenth of its time.
 */
async function feedSegment(
  path: string,
  segment: Pick<BundleSegment, 'file' | 'firstSeq'>,
  verifier: ChainVerifier,
  { observe, digestHere = false }: { observe?: (record: ChainRecord) => void; digestHere?: boolean } = {},
): Promise<string> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new BundleFormatError('AUDIT_BUNDLE.SEGMENT_MISSING', `${segment.file} is missing`, Number(segment.firstSeq));
  }
  const background = !digestHere && size >= BACKGROUND_DIGEST_BYTES ? digestOnAnotherThread(path) : null;
  const digest = background ? null : createHash('sha256');
  let carry: Buffer | null = null;
  let lineNumber = 0;
  let previousHash: Buffer | null = null;
  const take = (bytes: Buffer, start: number, end: number): boolean => {
    lineNumber += 1;
    const record =
      readEventLineFast(bytes, start, end, previousHash) ??
      parseEventLine(bytes.toString('utf8', start, end), segment.file, lineNumber);
    previousHash = record.hash;
    if (!verifier.accept(record)) return false;
    observe?.(record);
    return true;
  };
  try {
    read: for await (const chunk of createReadStream(path, { highWaterMark: BUNDLE_IO_CHUNK_BYTES })) {
      const bytes = chunk as Buffer;
      digest?.update(bytes);
      let start = 0;
      let newline = bytes.indexOf(NEWLINE, start);
      while (newline !== -1) {
        if (carry) {
          const line: Buffer = Buffer.concat([carry, bytes.subarray(start, newline)]);
          carry = null;
          if (!take(line, 0, line.length)) break read;
        } else if (!take(bytes, start, newline)) {
          break read;
        }
        start = newline + 1;
        newline = bytes.indexOf(NEWLINE, start);
      }
      if (start < bytes.length) carry = carry ? Buffer.concat([carry, bytes.subarray(start)]) : bytes.subarray(start);
    }
    if (!verifier.failed && carry && carry.length > 0) take(carry, 0, carry.length);
  } catch (error) {
    await background?.cancel();
    throw error;
  }
  if (verifier.failed) {
    await background?.cancel();
    return '';
  }
  return background ? background.digest : digest!.digest('hex');
}

/** A segment checked on its own (see `checkSegment`), with the SHA-256 of its file. */
export interface SegmentCheck {
  range: CheckedRange;
  digest: string;
}

/**
 * Checks one segment as a run of its own: every line parsed, texts against entry hashes, hashes recomputed, links
 * within the segment, seqs contiguous from `firstSeq`; how it joins the previous segment and the checkpoint heads
 * are left to the caller (`ChainVerifier.acceptRange`). Null when anything in it fails: the caller then reads it
 * record by record to name the problem.
 */
export async function checkSegment(
  path: string,
  firstSeq: number,
  headSeqs: readonly number[],
): Promise<SegmentCheck | null> {
  // With fromSeq > 1 and no prevHash, the verifier takes the first entry's prev_hash as given: joining it to the
  // chain is the caller's check.
  const verifier = new ChainVerifier({ fromSeq: firstSeq });
  const heads = new Set(headSeqs);
  const hashesAt = new Map<number, Buffer>();
  let firstPrevHash: Buffer | null = null;
  let lastHash: Buffer | null = null;
  let digest: string;
  try {
    digest = await feedSegment(path, { file: path, firstSeq: String(firstSeq) }, verifier, {
      digestHere: true,
      observe: (record) => {
        firstPrevHash ??= record.prevHash;
        lastHash = record.hash;
        if (heads.has(record.seq)) hashesAt.set(record.seq, record.hash);
      },
    });
  } catch {
    return null;
  }
  const result = verifier.result();
  if (verifier.failed || !firstPrevHash || !lastHash) return null;
  return {
    range: { firstSeq, lastSeq: result.lastSeq, firstPrevHash, lastHash, purged: result.purgedEntries, hashesAt },
    digest,
  };
}

/** The worker's module, next to this one in the build; absent when this runs from TypeScript sources. */
const SEGMENT_WORKER = new URL('./bundle-segment-worker.js', import.meta.url);

interface SegmentCheckRequest {
  path: string;
  firstSeq: number;
  headSeqs: readonly number[];
}

interface SegmentCheckReply {
  check: {
    range: Omit<CheckedRange, 'firstPrevHash' | 'lastHash' | 'hashesAt'> & {
      firstPrevHash: Uint8Array;
      lastHash: Uint8Array;
      hashesAt: [number, Uint8Array][];
    };
    digest: string;
  } | null;
}

/** Worker threads running `checkSegment`, each taking the next queued segment when it is free. */
class SegmentCheckPool {
  private readonly queue: { request: SegmentCheckRequest; resolve: (check: SegmentCheck | null) => void }[] = [];
  private readonly idle: Worker[] = [];
  private readonly live = new Set<Worker>();
  private readonly busy = new Map<Worker, (check: SegmentCheck | null) => void>();

  private constructor(workers: Worker[]) {
    for (const worker of workers) {
      this.live.add(worker);
      worker.on('message', (reply: SegmentCheckReply) => {
        this.busy.get(worker)?.(revive(reply.check));
        this.busy.delete(worker);
        this.idle.push(worker);
        this.dispatch();
      });
      // A thread that fails or stops leaves its segment (and, once none is left, every queued one) to be read
      // on the caller's thread.
      worker.on('error', () => this.lose(worker));
      worker.on('exit', () => this.lose(worker));
      this.idle.push(worker);
    }
  }

  /** Null when the build holds no worker module (running from sources): everything is checked in-thread then. */
  static start(threads: number): SegmentCheckPool | null {
    if (!existsSync(fileURLToPath(SEGMENT_WORKER))) return null;
    return new SegmentCheckPool(Array.from({ length: threads }, () => new Worker(SEGMENT_WORKER)));
  }

  check(path: string, firstSeq: number, headSeqs: readonly number[]): Promise<SegmentCheck | null> {
    return new Promise((resolve) => {
      if (this.live.size === 0) return resolve(null);
      this.queue.push({ request: { path, firstSeq, headSeqs }, resolve });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    const workers = [...this.live];
    for (const worker of workers) this.lose(worker);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private lose(worker: Worker): void {
    if (!this.live.delete(worker)) return;
    this.busy.get(worker)?.(null);
    this.busy.delete(worker);
    const index = this.idle.indexOf(worker);
    if (index !== -1) this.idle.splice(index, 1);
    if (this.live.size === 0) for (const { resolve } of this.queue.splice(0)) resolve(null);
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.idle.length > 0) {
      const worker = this.idle.pop()!;
      const { request, resolve } = this.queue.shift()!;
      this.busy.set(worker, resolve);
      worker.postMessage(request);
    }
  }
}

function revive(check: SegmentCheckReply['check']): SegmentCheck | null {
  if (!check) return null;
  const buffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    digest: check.digest,
    range: {
      ...check.range,
      firstPrevHash: buffer(check.range.firstPrevHash),
      lastHash: buffer(check.range.lastHash),
      hashesAt: new Map(check.range.hashesAt.map(([seq, hash]) => [seq, buffer(hash)])),
    },
  };
}

/** What a segment worker sends back: the check with its Map as pairs, for the structured clone. */
export function segmentCheckReply(check: SegmentCheck | null): SegmentCheckReply {
  return { check: check && { ...check, range: { ...check.range, hashesAt: [...check.range.hashesAt] } } };
}

export type { SegmentCheckRequest };

/** Below this a segment is digested inline: starting a thread costs more than hashing a few MB. */
const BACKGROUND_DIGEST_BYTES = 8 << 20;

// Evaluated as a CommonJS worker so that it runs the same from TypeScript sources and from the build.
const DIGEST_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
const digest = createHash('sha256');
createReadStream(workerData, { highWaterMark: 1 << 20 })
  .on('data', (chunk) => digest.update(chunk))
  .on('error', (error) => parentPort.postMessage({ error: error.message }))
  .on('end', () => parentPort.postMessage({ digest: digest.digest('hex') }));
`;

function digestOnAnotherThread(path: string): { digest: Promise<string>; cancel: () => Promise<void> } {
  const worker = new Worker(DIGEST_WORKER, { eval: true, workerData: path });
  const digest = new Promise<string>((resolve, reject) => {
    worker.once('message', (message: { digest?: string; error?: string }) => {
      if (message.digest) resolve(message.digest);
      else reject(new Error(message.error ?? 'digest failed'));
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`The digest thread stopped (exit code ${code})`)));
  });
  // Observed here, so that cancelling leaves no unhandled rejection.
  digest.catch(() => undefined);
  return {
    digest,
    cancel: async () => {
      await worker.terminate();
    },
  };
}

function asProblem(error: unknown, segment: BundleSegment): ChainProblem {
  if (error instanceof BundleFormatError) {
    return { code: error.code, message: error.message, ...(error.seq === undefined ? {} : { seq: error.seq }) };
  }
  return {
    code: 'AUDIT_BUNDLE.UNREADABLE',
    message: `Cannot read ${segment.file}: ${(error as Error).message}`,
    seq: Number(segment.firstSeq),
  };
}

function failure(code: ChainProblemCode, message: string): BundleVerification {
  return {
    ok: false,
    checkedEntries: 0,
    purgedEntries: 0,
    lastSeq: 0,
    firstBadSeq: null,
    problem: { code, message },
    lastCheckpoint: null,
    bundle: null,
    threads: 1,
  };
}
