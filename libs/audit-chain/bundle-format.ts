import { join } from 'node:path';
import { readIfExists } from './bundle-files.js';
import { AUDIT_CHAIN_VERSION, HASH_BYTES } from './chain-hash.js';
import type { ChainProblemCode, ChainRecord } from './chain-verifier.js';
import type { CheckpointRecord } from './checkpoint.js';

export const BUNDLE_FORMAT = 'homeroom-audit-bundle';
export const BUNDLE_FORMAT_VERSION = 1;
export const BUNDLE_MANIFEST = 'manifest.json';
export const BUNDLE_CHECKPOINTS = 'checkpoints.jsonl';
export const BUNDLE_PUBLIC_KEYS = 'public-keys.json';
/** Entries per segment file (about 60 MB of JSONL). */
export const DEFAULT_SEGMENT_ENTRIES = 100_000;

const SEGMENT_NAME = /^events-([1-9]\d*)-([1-9]\d*)\.jsonl$/;
const SEQ_TEXT = /^[1-9]\d{0,15}$/;
const HEX_HASH = /^[0-9a-f]{64}$/;
/** Read and write unit for segment files. */
export const BUNDLE_IO_CHUNK_BYTES = 1 << 20;

export interface BundleSegment {
  file: string;
  firstSeq: string;
  lastSeq: string;
  entries: number;
  sha256: string;
}

/**
 * `manifest.json`: what the directory holds. Unsigned on purpose: it only lists files and digests to catch
 * damage; integrity comes from the chain and the signed checkpoints, which a verifier checks for itself.
 */
export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  formatVersion: typeof BUNDLE_FORMAT_VERSION;
  chainVersion: number;
  checkpointFormat: string;
  origin: string;
  createdAt: string;
  updatedAt: string;
  /** Seqs held, as decimal strings; firstSeq is null and lastSeq "0" while the chain is empty. */
  firstSeq: string | null;
  lastSeq: string;
  /** Hex hash at lastSeq (32 zero bytes when empty): where the next export continues. */
  headHash: string;
  segments: BundleSegment[];
  checkpoints: { file: string; count: number; sha256: string };
  publicKeys: string;
}

export class BundleFormatError extends Error {
  constructor(
    readonly code: ChainProblemCode,
    message: string,
    readonly seq?: number,
  ) {
    super(message);
  }
}

export function checkpointLine(checkpoint: CheckpointRecord): string {
  return JSON.stringify({
    id: checkpoint.id,
    size: String(checkpoint.size),
    head: checkpoint.head.toString('base64'),
    time: checkpoint.time,
    keyId: checkpoint.keyId,
    body: checkpoint.body,
    signature: checkpoint.signature.toString('base64'),
  });
}

/** Parses `checkpoints.jsonl` text; throws BundleFormatError naming the line. */
export function parseCheckpointLines(text: string): CheckpointRecord[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line, index) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new BundleFormatError('AUDIT_BUNDLE.LINE_INVALID', `Checkpoint line ${index + 1} is not JSON`);
    }
    const item = (value ?? {}) as Record<string, unknown>;
    const { id, size, head, time, keyId, body, signature } = item;
    if (
      typeof id !== 'number' ||
      !Number.isSafeInteger(id) ||
      typeof size !== 'string' ||
      !/^(0|[1-9]\d{0,15})$/.test(size) ||
      typeof head !== 'string' ||
      typeof time !== 'string' ||
      typeof keyId !== 'string' ||
      typeof body !== 'string' ||
      typeof signature !== 'string'
    ) {
      throw new BundleFormatError('AUDIT_BUNDLE.LINE_INVALID', `Checkpoint line ${index + 1} lacks a field`);
    }
    return {
      id,
      size: Number(size),
      head: Buffer.from(head, 'base64'),
      time,
      keyId,
      body,
      signature: Buffer.from(signature, 'base64'),
    };
  });
}

/** One segment line; the entry text is carried as a JSON string, so its exact bytes survive. */
export function eventLine(record: ChainRecord): string {
  return JSON.stringify({
    seq: String(record.seq),
    entryHash: record.entryHash.toString('hex'),
    prevHash: record.prevHash.toString('hex'),
    hash: record.hash.toString('hex'),
    entry: typeof record.entry === 'string' || record.entry === null ? record.entry : utf8(record.entry),
    purged: record.purged,
  });
}

function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

const QUOTE = 0x22;
const ascii = (text: string): Buffer => Buffer.from(text, 'latin1');
const LINE_START = ascii('{"seq":"');
const AFTER_SEQ = ascii('","entryHash":"');
const AFTER_ENTRY_HASH = ascii('","prevHash":"');
const AFTER_PREV_HASH = ascii('","hash":"');
const AFTER_HASH = ascii('","entry":');
const NULL_ENTRY = ascii('null');
const PURGED_FALSE = ascii(',"purged":false}');
const PURGED_TRUE = ascii(',"purged":true}');
const HEX_VALUES = new Int8Array(256).fill(-1);
for (let digit = 0; digit < 16; digit += 1) HEX_VALUES['0123456789abcdef'.charCodeAt(digit)] = digit;

/**
 * The line layout `eventLine` writes, read in place: hashes decoded straight from the bytes and only the entry's
 * string literal handed to JSON.parse, which roughly halves the cost per line (the offline verifier's budget is a
 * few microseconds per entry). Returns null for anything else, which then goes through the full JSON parse.
 */
export function readEventLineFast(
  bytes: Buffer,
  start: number,
  end: number,
  previousHash: Buffer | null,
): ChainRecord | null {
  let at = start;
  if (!matches(bytes, at, LINE_START)) return null;
  at += LINE_START.length;
  let seq = 0;
  const seqStart = at;
  while (at < end && bytes[at] >= 0x30 && bytes[at] <= 0x39 && at - seqStart < 16) {
    seq = seq * 10 + (bytes[at] - 0x30);
    at += 1;
  }
  if (at === seqStart || bytes[seqStart] === 0x30 || !matches(bytes, at, AFTER_SEQ)) return null;
  at += AFTER_SEQ.length;
  const entryHash = hexAt(bytes, at);
  at += HASH_BYTES * 2;
  if (!entryHash || !matches(bytes, at, AFTER_ENTRY_HASH)) return null;
  at += AFTER_ENTRY_HASH.length;
  // Nearly always the previous line's hash: reuse that buffer rather than decode a copy of it.
  const prevHash = previousHash && hexEquals(bytes, at, previousHash) ? previousHash : hexAt(bytes, at);
  at += HASH_BYTES * 2;
  if (!prevHash || !matches(bytes, at, AFTER_PREV_HASH)) return null;
  at += AFTER_PREV_HASH.length;
  const hash = hexAt(bytes, at);
  at += HASH_BYTES * 2;
  if (!hash || !matches(bytes, at, AFTER_HASH)) return null;
  at += AFTER_HASH.length;
  let purged: boolean;
  let valueEnd: number;
  if (end - PURGED_FALSE.length >= at && matches(bytes, end - PURGED_FALSE.length, PURGED_FALSE)) {
    purged = false;
    valueEnd = end - PURGED_FALSE.length;
  } else if (end - PURGED_TRUE.length >= at && matches(bytes, end - PURGED_TRUE.length, PURGED_TRUE)) {
    purged = true;
    valueEnd = end - PURGED_TRUE.length;
  } else {
    return null;
  }
  let entry: string | null;
  if (valueEnd - at === NULL_ENTRY.length && matches(bytes, at, NULL_ENTRY)) {
    entry = null;
  } else if (valueEnd - at >= 2 && bytes[at] === QUOTE && bytes[valueEnd - 1] === QUOTE) {
    // JSON.parse accepts the slice only if it is exactly one string token, so the line means what it would
    // mean to a full parse.
    try {
      entry = JSON.parse(bytes.toString('utf8', at, valueEnd)) as string;
    } catch {
      return null;
    }
  } else {
    return null;
  }
  return { seq, entryHash, prevHash, hash, entry, purged };
}

function matches(bytes: Buffer, at: number, expected: Buffer): boolean {
  if (at + expected.length > bytes.length) return false;
  for (let index = 0; index < expected.length; index += 1) {
    if (bytes[at + index] !== expected[index]) return false;
  }
  return true;
}

function hexEquals(bytes: Buffer, at: number, expected: Buffer): boolean {
  if (at + HASH_BYTES * 2 > bytes.length) return false;
  for (let index = 0; index < HASH_BYTES; index += 1) {
    const high = HEX_VALUES[bytes[at + 2 * index]];
    const low = HEX_VALUES[bytes[at + 2 * index + 1]];
    if ((high | low) < 0 || ((high << 4) | low) !== expected[index]) return false;
  }
  return true;
}

function hexAt(bytes: Buffer, at: number): Buffer | null {
  if (at + HASH_BYTES * 2 > bytes.length) return null;
  const out = Buffer.allocUnsafe(HASH_BYTES);
  for (let index = 0; index < HASH_BYTES; index += 1) {
    const high = HEX_VALUES[bytes[at + 2 * index]];
    const low = HEX_VALUES[bytes[at + 2 * index + 1]];
    if ((high | low) < 0) return null;
    out[index] = (high << 4) | low;
  }
  return out;
}

export function parseEventLine(text: string, file: string, lineNumber: number): ChainRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BundleFormatError('AUDIT_BUNDLE.LINE_INVALID', `${file} line ${lineNumber} is not JSON`);
  }
  const { seq, entryHash, prevHash, hash, entry, purged } = (value ?? {}) as Record<string, unknown>;
  const seqNumber = typeof seq === 'string' && SEQ_TEXT.test(seq) ? Number(seq) : Number.NaN;
  if (
    Number.isNaN(seqNumber) ||
    typeof entryHash !== 'string' ||
    typeof prevHash !== 'string' ||
    typeof hash !== 'string' ||
    (entry !== null && typeof entry !== 'string') ||
    typeof purged !== 'boolean'
  ) {
    throw new BundleFormatError('AUDIT_BUNDLE.LINE_INVALID', `${file} line ${lineNumber} lacks a field`);
  }
  const record: ChainRecord = {
    seq: seqNumber,
    entryHash: hexHash(entryHash),
    prevHash: hexHash(prevHash),
    hash: hexHash(hash),
    entry,
    purged,
  };
  if (
    record.entryHash.length !== HASH_BYTES ||
    record.prevHash.length !== HASH_BYTES ||
    record.hash.length !== HASH_BYTES
  ) {
    throw new BundleFormatError(
      'AUDIT_BUNDLE.LINE_INVALID',
      `${file} line ${lineNumber} holds a hash that is not 64 lowercase hex digits`,
      seqNumber,
    );
  }
  return record;
}

/** Lowercase hex only, as written: an upper-case copy would hash differently in the manifest digest anyway. */
function hexHash(text: string): Buffer {
  return HEX_HASH.test(text) ? Buffer.from(text, 'hex') : Buffer.alloc(0);
}

export async function readBundleManifest(dir: string): Promise<BundleManifest | null> {
  const text = await readIfExists(join(dir, BUNDLE_MANIFEST));
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BundleFormatError('AUDIT_BUNDLE.MANIFEST_INVALID', `${BUNDLE_MANIFEST} is not JSON`);
  }
  return validateManifest(value);
}

export function validateManifest(value: unknown): BundleManifest {
  const invalid = (why: string): never => {
    throw new BundleFormatError('AUDIT_BUNDLE.MANIFEST_INVALID', `${BUNDLE_MANIFEST}: ${why}`);
  };
  const manifest = (value ?? {}) as Partial<BundleManifest>;
  if (manifest.format !== BUNDLE_FORMAT) invalid(`not a ${BUNDLE_FORMAT}`);
  if (manifest.formatVersion !== BUNDLE_FORMAT_VERSION) invalid(`format version ${manifest.formatVersion} is unknown`);
  if (manifest.chainVersion !== AUDIT_CHAIN_VERSION) invalid(`chain version ${manifest.chainVersion} is unknown`);
  if (typeof manifest.origin !== 'string' || manifest.origin === '') invalid('no origin');
  if (typeof manifest.lastSeq !== 'string' || !/^(0|[1-9]\d{0,15})$/.test(manifest.lastSeq)) invalid('bad lastSeq');
  if (typeof manifest.headHash !== 'string' || !HEX_HASH.test(manifest.headHash)) invalid('bad headHash');
  if (!Array.isArray(manifest.segments)) invalid('no segment list');
  const checkpoints = manifest.checkpoints;
  if (
    !checkpoints ||
    typeof checkpoints.file !== 'string' ||
    checkpoints.file.includes('/') ||
    typeof checkpoints.count !== 'number' ||
    typeof checkpoints.sha256 !== 'string'
  ) {
    invalid('no checkpoint file');
  }
  let next = 1;
  for (const segment of manifest.segments!) {
    const match = SEGMENT_NAME.exec(String(segment?.file));
    if (!match || match[1] !== segment.firstSeq || match[2] !== segment.lastSeq) {
      invalid(`segment ${String(segment?.file)} is not named after its seq range`);
    }
    if (Number(segment.firstSeq) !== next || Number(segment.lastSeq) < next) {
      invalid(`segment ${segment.file} does not continue at entry ${next}`);
    }
    if (typeof segment.sha256 !== 'string' || !HEX_HASH.test(segment.sha256))
      invalid(`segment ${segment.file} lacks a digest`);
    next = Number(segment.lastSeq) + 1;
  }
  if (next - 1 !== Number(manifest.lastSeq)) invalid(`the segments end at ${next - 1}, not ${manifest.lastSeq}`);
  return manifest as BundleManifest;
}
