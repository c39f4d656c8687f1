import type { ChainRecord } from '@app/audit-chain';

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
  /** fromSeq..toSeq in seq order, in batches, so memory stays flat however long the chain is. */
  abstract records(fromSeq: number, toSeq: number): AsyncIterable<readonly ChainRecord[]>;
}
