import { createHash, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
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
import { ChainVerifier, type ChainProblem, type ChainProblemCode, type ChainVerification } from './chain-verifier.js';
import type { CheckpointRecord } from './checkpoint.js';

const NEWLINE = 0x0a;

export interface BundleVerification extends ChainVerification {
  bundle: { origin: string; lastSeq: number; segments: number; checkpoints: number } | null;
}

/**
 * Verifies a bundle offline: every segment line through the chain checks, every checkpoint's signature against
 * the trusted keys given here (never the bundle's own `public-keys.json`, which whoever altered the bundle
 * could replace), each checkpoint's head on the chain, and the files against the manifest's digests.
 */
export async function verifyBundle(
  dir: string,
  trustedKeys: readonly (string | KeyObject)[],
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
  if (verifier.failed) return { ...verifier.result(), bundle: summary };
  for (const segment of manifest.segments) {
    try {
      const digest = await feedSegment(join(dir, segment.file), segment, verifier);
      if (verifier.failed) return { ...verifier.result(), bundle: summary };
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
      return { ...result, ok: false, firstBadSeq: problem.seq ?? null, problem, bundle: summary };
    }
  }
  const result = verifier.finish();
  if (result.ok && sha256Hex(checkpointsText) !== manifest.checkpoints.sha256) {
    const problem: ChainProblem = {
      code: 'AUDIT_BUNDLE.DIGEST_MISMATCH',
      message: `${manifest.checkpoints.file} does not match its SHA-256 in the manifest`,
    };
    return { ...result, ok: false, problem, bundle: summary };
  }
  return { ...result, bundle: summary };
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
async function feedSegment(path: string, segment: BundleSegment, verifier: ChainVerifier): Promise<string> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new BundleFormatError('AUDIT_BUNDLE.SEGMENT_MISSING', `${segment.file} is missing`, Number(segment.firstSeq));
  }
  const background = size >= BACKGROUND_DIGEST_BYTES ? digestOnAnotherThread(path) : null;
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
    return verifier.accept(record);
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
  };
}
