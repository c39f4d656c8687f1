import type { ChainRecord, CheckedRange } from '@app/audit-chain';

export interface ChainTip {
  /** The last seq; 0 while the chain is empty. */
  seq: number;
  /** The hash at that seq (32 zero bytes while empty). */
  hash: Buffer;
}

/**
 * What `records` ships per entry: `text` the entry's text (exports); `checked` only whether the text matches
 * its entry hash and which stored columns disagree with it, compared where it is stored (`entryMatches`,
 * `mismatchedColumns`: what verifying the database needs, and much faster); `text-and-checked` both (an export
 * that verifies what it writes).
 */
export type ChainEntries = 'text' | 'checked' | 'text-and-checked';

/** Reads the stored chain: entries with their hashes, payload text and purge records. */
export abstract class AuditChainReader {
  abstract tip(): Promise<ChainTip>;
  abstract hashAt(seq: number): Promise<Buffer | null>;
  /**
   * Checks every entry of first..last where it is stored (links within the run, text against entry hash,
   * recomputed hash) and returns the run's boundary hashes and the hashes at `headSeqs`; null when any entry
   * there is missing or fails a check.
   */
  abstract checkRange(first: number, last: number, headSeqs: readonly number[]): Promise<CheckedRange | null>;
  /** fromSeq..toSeq in seq order, in batches, so memory stays flat however long the chain is (see ChainEntries). */
  abstract records(fromSeq: number, toSeq: number, entries?: ChainEntries): AsyncIterable<readonly ChainRecord[]>;
}
