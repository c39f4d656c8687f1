import { verifyChainInRanges, type ChainVerification, type CheckpointRecord } from '@app/audit-chain';
import type { AuditChainReader } from './ports/audit-chain.reader.port.js';

/** Entries checked per statement: a few hundred milliseconds of work, so no statement holds a snapshot long. */
export const VERIFY_RANGE_ENTRIES = 100_000;

export interface StoredChainVerificationOptions {
  /** The tip when the check started: ranges end there. */
  lastSeq: number;
  checkpoints: readonly CheckpointRecord[];
  publicKeys: readonly string[];
  fromSeq?: number;
  /** The stored hash before fromSeq. */
  prevHash?: Buffer;
  toSeq?: number;
  rangeEntries?: number;
}

/**
 * Verifies the chain where it is stored, run by run (links, hashes, texts and the columns beside them checked
 * in the database), against the given checkpoints: what `audit verify` reports and what a signer must see pass
 * before it vouches for the chain.
 */
export function verifyStoredChain(
  chain: AuditChainReader,
  options: StoredChainVerificationOptions,
): Promise<ChainVerification> {
  const source = {
    checkRange: (first: number, last: number, headSeqs: readonly number[]) => chain.checkRange(first, last, headSeqs),
    records: (first: number, last: number) => chain.records(first, last, 'checked'),
  };
  return verifyChainInRanges(source, {
    lastSeq: options.lastSeq,
    rangeSize: options.rangeEntries ?? VERIFY_RANGE_ENTRIES,
    checkpoints: options.checkpoints,
    publicKeys: options.publicKeys,
    fromSeq: options.fromSeq ?? 1,
    prevHash: options.prevHash,
    toSeq: options.toSeq,
  });
}
