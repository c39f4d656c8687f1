import { ChainVerifier, type ChainRecord, type ChainVerification, type CheckpointRecord } from '@app/audit-chain';
import type { AuditChainReader } from './ports/audit-chain.reader.port.js';
import { verifyStoredChain } from './stored-chain-verification.js';

/** The chain read for an export failed verification at some entry: nothing past it was handed on. */
export class ChainReadRefusedError extends Error {
  constructor(readonly verification: ChainVerification) {
    super(`The chain failed verification (${verification.problem?.code ?? 'unknown problem'})`);
  }
}

export interface VerifyingChainReaderOptions {
  checkpoints: readonly CheckpointRecord[];
  publicKeys: readonly string[];
}

/**
 * Reads the chain for an export and verifies it on the way, with the checks `audit verify` makes (links, hashes,
 * texts against their entry hashes and the columns beside them, compared where they are stored, and every stored
 * checkpoint), so that signing the export's checkpoint needs no second pass over the chain. Entries before the
 * first one read (what an earlier export already holds) are verified where they are stored first. A batch is
 * handed on only once every entry in it passed; the first failure ends the read with ChainReadRefusedError.
 * `verified()` then says up to where the chain verified and the hash there.
 */
export class VerifyingChainReader {
  private outcome: { verification: ChainVerification; head: Buffer } | null = null;

  constructor(
    private readonly chain: AuditChainReader,
    private readonly options: VerifyingChainReaderOptions,
  ) {}

  async *records(fromSeq: number, toSeq: number): AsyncGenerator<readonly ChainRecord[]> {
    this.outcome = null;
    const { checkpoints, publicKeys } = this.options;
    let prevHash: Buffer | undefined;
    if (fromSeq > 1) {
      const prefix = await verifyStoredChain(this.chain, {
        lastSeq: fromSeq - 1,
        toSeq: fromSeq - 1,
        checkpoints,
        publicKeys,
      });
      if (!prefix.ok) throw new ChainReadRefusedError(prefix);
      prevHash = (await this.chain.hashAt(fromSeq - 1)) ?? undefined;
    }
    const verifier = new ChainVerifier({ checkpoints, publicKeys, fromSeq, prevHash, toSeq });
    if (verifier.failed) throw new ChainReadRefusedError(verifier.result());
    let head: Buffer | null = prevHash ?? null;
    for await (const batch of this.chain.records(fromSeq, toSeq, 'text-and-checked')) {
      for (const record of batch) {
        if (!verifier.accept(record)) throw new ChainReadRefusedError(verifier.result());
      }
      if (batch.length > 0) head = batch[batch.length - 1].hash;
      yield batch;
    }
    const verification = verifier.finish();
    if (!verification.ok) throw new ChainReadRefusedError(verification);
    if (head) this.outcome = { verification, head };
  }

  /** The verification of 1..toSeq made by the last complete read, or null when none completed. */
  verified(): { verification: ChainVerification; head: Buffer } | null {
    return this.outcome;
  }
}
