import { hash, type KeyObject } from 'node:crypto';
import { GENESIS_HASH, HASH_BYTES } from './chain-hash.js';
import {
  CheckpointFormatError,
  parseCheckpointBody,
  verifyCheckpointSignature,
  type CheckpointRecord,
} from './checkpoint.js';
import { auditKeyId, auditPublicKeyFrom } from './signing-key.js';

/**
 * One link of the chain as stored: `entry` is the exact canonical text whose SHA-256 is `entryHash` (as a string,
 * or as its UTF-8 bytes, which a reader can hand over without decoding them), or null when it is gone; `purged` says whether the retention purge recorded its removal (an entry that is gone
 * without that record is tampering). `seq` is a plain number: chains stay far below 2^53 entries.
 */
export interface ChainRecord {
  seq: number;
  entryHash: Buffer;
  prevHash: Buffer;
  hash: Buffer;
  entry: string | Uint8Array | null;
  purged: boolean;
  /**
   * Set by a reader that compared the stored text with `entryHash` where it is stored (PostgreSQL's sha256),
   * instead of shipping the text: true or false when the text is there, undefined when it is gone. Offline
   * verification never sets it and hashes `entry` itself.
   */
  entryMatches?: boolean;
  /**
   * Set by a reader that also compared the columns it stores beside the text (what its queries read) with the
   * text: the names of those that disagree, empty when all agree. Undefined when not compared (offline).
   */
  mismatchedColumns?: readonly string[];
}

/** Stable codes: reports, alerts and tests match on these, never on the wording. */
export const CHAIN_PROBLEM_CODES = [
  'AUDIT_CHAIN.SEQ_NOT_CONTIGUOUS',
  'AUDIT_CHAIN.LINK_BROKEN',
  'AUDIT_CHAIN.ENTRY_ALTERED',
  'AUDIT_CHAIN.ENTRY_MISSING',
  'AUDIT_CHAIN.COLUMNS_MISMATCH',
  'AUDIT_CHAIN.HASH_MISMATCH',
  'AUDIT_CHAIN.TRUNCATED',
  'AUDIT_CHAIN.CHECKPOINT_MALFORMED',
  'AUDIT_CHAIN.CHECKPOINT_CONFLICT',
  'AUDIT_CHAIN.CHECKPOINT_ORIGIN_MISMATCH',
  'AUDIT_CHAIN.CHECKPOINT_ID_GAP',
  'AUDIT_CHAIN.CHECKPOINT_PREV_MISMATCH',
  'AUDIT_CHAIN.CHECKPOINT_UNKNOWN_KEY',
  'AUDIT_CHAIN.CHECKPOINT_SIGNATURE_INVALID',
  'AUDIT_CHAIN.CHECKPOINT_SIZE_DECREASED',
  'AUDIT_CHAIN.CHECKPOINT_HEAD_MISMATCH',
  'AUDIT_BUNDLE.UNREADABLE',
  'AUDIT_BUNDLE.MANIFEST_INVALID',
  'AUDIT_BUNDLE.NO_TRUSTED_KEY',
  'AUDIT_BUNDLE.SEGMENT_MISSING',
  'AUDIT_BUNDLE.SEGMENT_RANGE_MISMATCH',
  'AUDIT_BUNDLE.DIGEST_MISMATCH',
  'AUDIT_BUNDLE.LINE_INVALID',
  'AUDIT_BUNDLE.CHECKPOINT_COUNT_MISMATCH',
] as const;
export type ChainProblemCode = (typeof CHAIN_PROBLEM_CODES)[number];

export interface ChainProblem {
  code: ChainProblemCode;
  message: string;
  /** The seq the problem is at (for a gap or a truncated tail: the first missing seq). */
  seq?: number;
  /** The checkpoint concerned, for checkpoint problems. */
  checkpointId?: number;
}

/** A checkpoint whose signature verified and whose head the chain passes through. */
export interface VerifiedCheckpoint {
  id: number;
  size: number;
  head: Buffer;
  time: string;
  keyId: string;
}

export interface ChainVerification {
  ok: boolean;
  /** Entries that passed every check before the first problem (all of them when ok). */
  checkedEntries: number;
  /** Of those, entries whose text the retention purge removed (their hashes still chain). */
  purgedEntries: number;
  /** The last seq that was checked and found good (fromSeq - 1 when none). */
  lastSeq: number;
  firstBadSeq: number | null;
  problem: ChainProblem | null;
  lastCheckpoint: VerifiedCheckpoint | null;
}

export interface VerifyChainOptions {
  /** Signed checkpoints (any order; the same checkpoint may appear twice, e.g. from the database and a bundle). */
  checkpoints?: readonly CheckpointRecord[];
  /** Trusted public keys (PEM, base64 raw or KeyObject). A checkpoint signed by any other key fails. */
  publicKeys?: readonly (string | KeyObject)[];
  /** When given, every checkpoint must name this origin. */
  origin?: string;
  /** First seq to check (default 1). */
  fromSeq?: number;
  /** The hash at fromSeq - 1, which the first entry must link to (genesis when fromSeq is 1). */
  prevHash?: Buffer;
  /** Last seq to check; entries past it are ignored and checkpoints past it are not head-checked. */
  toSeq?: number;
}

/**
 * A run of consecutive entries whose own checks were already made where they are stored or read (PostgreSQL,
 * a worker thread): every seq from firstSeq to lastSeq present, each entry's prev_hash equal to the hash before
 * it within the run, each text hashing to its entry hash (or its removal recorded by the purge) and each hash
 * recomputing. What is left to check here is how the run joins the chain and the checkpoint heads inside it.
 */
export interface CheckedRange {
  firstSeq: number;
  lastSeq: number;
  /** prev_hash of the entry at firstSeq. */
  firstPrevHash: Buffer;
  /** hash of the entry at lastSeq. */
  lastHash: Buffer;
  /** Entries in the run whose text the retention purge removed. */
  purged: number;
  /** The hash at each seq asked for (see `ChainVerifier.headSeqsWithin`). */
  hashesAt: ReadonlyMap<number, Buffer>;
}

/** Records in seq order, one by one or in batches (a batch saves an await per record). */
export type ChainRecordSource =
  AsyncIterable<ChainRecord | readonly ChainRecord[]> | Iterable<ChainRecord | readonly ChainRecord[]>;

/** Verifies a stream of chain records in seq order against signed checkpoints. */
export async function verifyChain(
  records: ChainRecordSource,
  options: VerifyChainOptions = {},
): Promise<ChainVerification> {
  const verifier = new ChainVerifier(options);
  if (verifier.failed) return verifier.result();
  outer: for await (const item of records) {
    if (isBatch(item)) {
      for (const record of item) if (!verifier.accept(record)) break outer;
    } else if (!verifier.accept(item)) {
      break;
    }
    if (verifier.done) break;
  }
  return verifier.finish();
}

/**
 * The chain checks, fed one record at a time (`accept` returns false once a problem is found). Checkpoints
 * are checked up front (format, origin, contiguous ids, each `prev` = the previous signature, a trusted
 * signature, non-decreasing size); then, per entry: contiguous seq, `prev_hash` = the previous hash, the
 * entry text hashes to `entry_hash` (or its absence was recorded by the purge), `hash` recomputes, and at each
 * checkpoint's size the hash equals its head. A checkpoint past the last entry means the tail was cut.
 *
 * Per entry it allocates only the two digests: the chain input lives in one reused buffer.
 */
export class ChainVerifier {
  private readonly scratch = Buffer.alloc(HASH_BYTES * 2 + 8);
  private readonly pending: CheckpointRecord[] = [];
  private readonly toSeq: number;
  private pendingIndex = 0;
  private nextHeadSize = Number.POSITIVE_INFINITY;
  private expectedSeq: number;
  private prev: Buffer | null;
  private problem: ChainProblem | null = null;
  private checked = 0;
  private purged = 0;
  private lastCheckpoint: VerifiedCheckpoint | null = null;

  constructor(private readonly options: VerifyChainOptions = {}) {
    this.expectedSeq = options.fromSeq ?? 1;
    this.toSeq = options.toSeq ?? Number.POSITIVE_INFINITY;
    this.prev = options.prevHash ?? (this.expectedSeq === 1 ? GENESIS_HASH : null);
    this.problem = this.checkCheckpoints();
    if (this.pending.length > 0) this.nextHeadSize = this.pending[0].size;
  }

  get failed(): boolean {
    return this.problem !== null;
  }

  /** Whether every seq up to `toSeq` has been checked. */
  get done(): boolean {
    return this.expectedSeq > this.toSeq;
  }

  /** The seq the next record or range must start at. */
  get nextSeq(): number {
    return this.expectedSeq;
  }

  /** Checkpoint sizes within first..last, whose hashes a `CheckedRange` over that run must carry. */
  headSeqsWithin(first: number, last: number): number[] {
    const seqs: number[] = [];
    for (let index = this.pendingIndex; index < this.pending.length; index += 1) {
      const size = this.pending[index].size;
      if (size > last) break;
      if (size >= first && seqs.at(-1) !== size) seqs.push(size);
    }
    return seqs;
  }

  /**
   * Takes a run checked elsewhere if it joins the chain where this verifier stands and passes through every
   * checkpoint head inside it. Returns false and changes nothing otherwise (or once a problem was found): the
   * caller then feeds that run record by record, which names the problem and the seq it is at.
   */
  acceptRange(range: CheckedRange): boolean {
    if (this.problem || range.firstSeq !== this.expectedSeq || range.lastSeq < range.firstSeq) return false;
    if (range.lastSeq > this.toSeq) return false;
    if (this.prev !== null && !range.firstPrevHash.equals(this.prev)) return false;
    let index = this.pendingIndex;
    while (index < this.pending.length && this.pending[index].size <= range.lastSeq) {
      const checkpoint = this.pending[index];
      const head = range.lastSeq === checkpoint.size ? range.lastHash : range.hashesAt.get(checkpoint.size);
      if (!head || !checkpoint.head.equals(head)) return false;
      index += 1;
    }
    if (index > this.pendingIndex) this.lastCheckpoint = verified(this.pending[index - 1]);
    this.pendingIndex = index;
    this.nextHeadSize = index < this.pending.length ? this.pending[index].size : Number.POSITIVE_INFINITY;
    this.prev = range.lastHash;
    this.expectedSeq = range.lastSeq + 1;
    this.checked += range.lastSeq - range.firstSeq + 1;
    this.purged += range.purged;
    return true;
  }

  accept(record: ChainRecord): boolean {
    if (this.problem) return false;
    const seq = record.seq;
    if (seq > this.toSeq) return true;
    if (seq !== this.expectedSeq) {
      return this.fail(
        'AUDIT_CHAIN.SEQ_NOT_CONTIGUOUS',
        seq > this.expectedSeq
          ? `Entries ${this.expectedSeq}${seq - 1 > this.expectedSeq ? `–${seq - 1}` : ''} are missing (the next entry present is ${seq})`
          : `Entry ${seq} appears where entry ${this.expectedSeq} was expected`,
        seq > this.expectedSeq ? this.expectedSeq : seq,
      );
    }
    const prev = this.prev ?? record.prevHash;
    if (!record.prevHash.equals(prev)) {
      return this.fail('AUDIT_CHAIN.LINK_BROKEN', `Entry ${seq} does not link to the hash of entry ${seq - 1}`, seq);
    }
    if (record.entryMatches !== undefined) {
      if (!record.entryMatches) {
        return this.fail('AUDIT_CHAIN.ENTRY_ALTERED', `The text of entry ${seq} does not match its entry hash`, seq);
      }
      if (record.mismatchedColumns && record.mismatchedColumns.length > 0) {
        return this.fail(
          'AUDIT_CHAIN.COLUMNS_MISMATCH',
          `The stored ${record.mismatchedColumns.join(', ')} of entry ${seq} disagree${record.mismatchedColumns.length === 1 ? 's' : ''} with its hashed text`,
          seq,
        );
      }
    } else if (record.entry !== null) {
      if (!hash('sha256', record.entry, 'buffer').equals(record.entryHash)) {
        return this.fail('AUDIT_CHAIN.ENTRY_ALTERED', `The text of entry ${seq} does not match its entry hash`, seq);
      }
    } else if (record.purged) {
      this.purged += 1;
    } else {
      return this.fail(
        'AUDIT_CHAIN.ENTRY_MISSING',
        `The text of entry ${seq} is missing and no retention purge removed it`,
        seq,
      );
    }
    const scratch = this.scratch;
    if (prev.length !== HASH_BYTES || record.entryHash.length !== HASH_BYTES) {
      return this.fail('AUDIT_CHAIN.HASH_MISMATCH', `Entry ${seq} holds hashes of the wrong length`, seq);
    }
    prev.copy(scratch, 0);
    scratch.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), HASH_BYTES);
    scratch.writeUInt32BE(seq >>> 0, HASH_BYTES + 4);
    record.entryHash.copy(scratch, HASH_BYTES + 8);
    if (!hash('sha256', scratch, 'buffer').equals(record.hash)) {
      return this.fail('AUDIT_CHAIN.HASH_MISMATCH', `The hash of entry ${seq} does not recompute`, seq);
    }
    this.prev = record.hash;
    this.expectedSeq = seq + 1;
    this.checked += 1;
    if (seq === this.nextHeadSize) return this.checkHeads(seq, record.hash);
    return true;
  }

  /** Call after the last record: checkpoints past the last entry mean the tail was removed. */
  finish(): ChainVerification {
    if (!this.problem && this.pendingIndex < this.pending.length) {
      const checkpoint = this.pending[this.pendingIndex];
      const lastSeq = this.expectedSeq - 1;
      this.fail(
        'AUDIT_CHAIN.TRUNCATED',
        `Checkpoint ${checkpoint.id} covers ${checkpoint.size} entries, but the chain ends at entry ${lastSeq}`,
        this.expectedSeq,
        checkpoint.id,
      );
    }
    return this.result();
  }

  result(): ChainVerification {
    return {
      ok: this.problem === null,
      checkedEntries: this.checked,
      purgedEntries: this.purged,
      lastSeq: this.expectedSeq - 1,
      firstBadSeq: this.problem?.seq ?? null,
      problem: this.problem,
      lastCheckpoint: this.lastCheckpoint,
    };
  }

  private checkHeads(seq: number, head: Buffer): boolean {
    while (this.pendingIndex < this.pending.length && this.pending[this.pendingIndex].size === seq) {
      const checkpoint = this.pending[this.pendingIndex];
      if (!checkpoint.head.equals(head)) {
        return this.fail(
          'AUDIT_CHAIN.CHECKPOINT_HEAD_MISMATCH',
          `The chain does not pass through the head that checkpoint ${checkpoint.id} signed at entry ${seq}`,
          seq,
          checkpoint.id,
        );
      }
      this.lastCheckpoint = verified(checkpoint);
      this.pendingIndex += 1;
    }
    this.nextHeadSize =
      this.pendingIndex < this.pending.length ? this.pending[this.pendingIndex].size : Number.POSITIVE_INFINITY;
    return true;
  }

  private fail(code: ChainProblemCode, message: string, seq?: number, checkpointId?: number): false {
    this.problem = {
      code,
      message,
      ...(seq === undefined ? {} : { seq }),
      ...(checkpointId === undefined ? {} : { checkpointId }),
    };
    return false;
  }

  private checkCheckpoints(): ChainProblem | null {
    const checkpoints = [...(this.options.checkpoints ?? [])].sort((left, right) => left.id - right.id);
    if (checkpoints.length === 0) return null;
    const keys = new Map<string, KeyObject>();
    for (const input of this.options.publicKeys ?? []) {
      const key = auditPublicKeyFrom(input);
      keys.set(auditKeyId(key), key);
    }
    const fromSeq = this.options.fromSeq ?? 1;
    let previous: CheckpointRecord | null = null;
    for (const checkpoint of checkpoints) {
      if (previous && previous.id === checkpoint.id) {
        if (previous.body === checkpoint.body && previous.signature.equals(checkpoint.signature)) continue;
        return this.problemAt('AUDIT_CHAIN.CHECKPOINT_CONFLICT', checkpoint, 'exists in two different versions');
      }
      let fields;
      try {
        fields = parseCheckpointBody(checkpoint.body);
      } catch (error) {
        if (!(error instanceof CheckpointFormatError)) throw error;
        return this.problemAt('AUDIT_CHAIN.CHECKPOINT_MALFORMED', checkpoint, `is malformed: ${error.message}`);
      }
      if (
        fields.id !== checkpoint.id ||
        fields.size !== checkpoint.size ||
        !fields.head.equals(checkpoint.head) ||
        fields.time !== checkpoint.time ||
        fields.keyId !== checkpoint.keyId
      ) {
        return this.problemAt('AUDIT_CHAIN.CHECKPOINT_MALFORMED', checkpoint, 'differs from its signed body');
      }
      if (this.options.origin !== undefined && fields.origin !== this.options.origin) {
        return this.problemAt(
          'AUDIT_CHAIN.CHECKPOINT_ORIGIN_MISMATCH',
          checkpoint,
          `names origin "${fields.origin}", not "${this.options.origin}"`,
        );
      }
      const expectedId = previous ? previous.id + 1 : 1;
      if (checkpoint.id !== expectedId) {
        return this.problemAt(
          'AUDIT_CHAIN.CHECKPOINT_ID_GAP',
          checkpoint,
          `follows checkpoint ${expectedId - 1}: checkpoint ${expectedId} is missing`,
        );
      }
      const prevMatches = previous ? fields.prev?.equals(previous.signature) === true : fields.prev === null;
      if (!prevMatches) {
        return this.problemAt(
          'AUDIT_CHAIN.CHECKPOINT_PREV_MISMATCH',
          checkpoint,
          previous
            ? `does not carry the signature of checkpoint ${previous.id}`
            : 'is the first but names a predecessor',
        );
      }
      const key = keys.get(fields.keyId);
      if (!key) {
        return this.problemAt(
          'AUDIT_CHAIN.CHECKPOINT_UNKNOWN_KEY',
          checkpoint,
          `is signed by key ${fields.keyId}, which is not among the trusted public keys`,
        );
      }
      if (!verifyCheckpointSignature(checkpoint.body, checkpoint.signature, key)) {
        return this.problemAt('AUDIT_CHAIN.CHECKPOINT_SIGNATURE_INVALID', checkpoint, 'has an invalid signature');
      }
      if (previous && checkpoint.size < previous.size) {
        return this.problemAt(
          'AUDIT_CHAIN.CHECKPOINT_SIZE_DECREASED',
          checkpoint,
          `covers ${checkpoint.size} entries, fewer than checkpoint ${previous.id} (${previous.size})`,
        );
      }
      const boundary = fromSeq - 1;
      if (checkpoint.size === 0 || checkpoint.size === boundary) {
        const expected = checkpoint.size === 0 ? GENESIS_HASH : this.options.prevHash;
        if (expected && !checkpoint.head.equals(expected)) {
          return {
            code: 'AUDIT_CHAIN.CHECKPOINT_HEAD_MISMATCH',
            message: `The chain does not pass through the head that checkpoint ${checkpoint.id} signed at entry ${checkpoint.size}`,
            checkpointId: checkpoint.id,
            ...(checkpoint.size > 0 ? { seq: checkpoint.size } : {}),
          };
        }
        if (expected) this.lastCheckpoint = verified(checkpoint);
      } else if (checkpoint.size >= fromSeq && checkpoint.size <= this.toSeq) {
        this.pending.push(checkpoint);
      }
      previous = checkpoint;
    }
    return null;
  }

  private problemAt(code: ChainProblemCode, checkpoint: CheckpointRecord, what: string): ChainProblem {
    return { code, message: `Checkpoint ${checkpoint.id} ${what}`, checkpointId: checkpoint.id };
  }
}

function verified(checkpoint: CheckpointRecord): VerifiedCheckpoint {
  return {
    id: checkpoint.id,
    size: checkpoint.size,
    head: checkpoint.head,
    time: checkpoint.time,
    keyId: checkpoint.keyId,
  };
}

function isBatch(item: ChainRecord | readonly ChainRecord[]): item is readonly ChainRecord[] {
  return Array.isArray(item);
}
