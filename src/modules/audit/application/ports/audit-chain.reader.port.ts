import type { ChainRecord, CheckedRange } from '@app/audit-chain';

export interface ChainTip {
  /** The last seq; 0 while the chain is empty. */
  seq: number;
  /** The hash at that seq (32 zero bytes while empty). */
  hash: Buffer;
}

/** Reads the stored chain: entries with their hashes, payload text and purge records. */
export abstract class AuditChainReader {
  abstract tip(): Promise<ChainTip>;
  abstract hashAt(seq: number): Promise<Buffer | null>;
  /**
   * fromSeq..toSeq in seq order, in batches, so memory stays flat however long the chain is. `text` ships each
   * entry's text (exports); `checked` compares it with its entry hash where it is stored and ships the result
   * (`entryMatches`), which is what verifying the database needs and much faster.
   */
  /**
   * Checks every entry of first..last where it is stored (links within the run, text against entry hash,
   * recomputed hash) and returns the run's boundary hashes and the hashes at `headSeqs`; null when any entry
   * there is missing or fails a check.
   */
  abstract checkRange(first: number, last: number, headSeqs: readonly number[]): Promise<CheckedRange | null>;
  abstract records(fromSeq: number, toSeq: number, entries?: 'text' | 'checked'): AsyncIterable<readonly ChainRecord[]>;
}
