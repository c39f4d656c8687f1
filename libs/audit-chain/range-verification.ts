import {
  ChainVerifier,
  type ChainRecord,
  type ChainRecordSource,
  type ChainVerification,
  type CheckedRange,
  type VerifyChainOptions,
} from './chain-verifier.js';

/** Where the entries are stored, able to check a run of them in place. */
export interface RangeCheckingSource {
  /**
   * Checks every entry of first..last where it is stored (see `CheckedRange`); null when any entry there is
   * missing or fails a check.
   */
  checkRange(first: number, last: number, headSeqs: readonly number[]): Promise<CheckedRange | null>;
  /** The same entries one by one, read only for a run that failed its check, to name the problem. */
  records(first: number, last: number): ChainRecordSource;
}

export interface VerifyInRangesOptions extends VerifyChainOptions {
  /** The last seq present (the tip when the check started); ranges end there. */
  lastSeq: number;
  /** Entries per range. */
  rangeSize: number;
}

/**
 * Verifies a chain run by run: each run is checked where it is stored and joined to the chain here; a run that
 * fails its check is read record by record through the same `ChainVerifier` checks, so the result (problem,
 * first bad seq, entries checked before it) is the one a record-by-record verification gives. The next run's
 * check is started while this one is joined.
 */
export async function verifyChainInRanges(
  source: RangeCheckingSource,
  options: VerifyInRangesOptions,
): Promise<ChainVerification> {
  const verifier = new ChainVerifier(options);
  if (verifier.failed) return verifier.result();
  const end = Math.min(options.lastSeq, options.toSeq ?? Number.POSITIVE_INFINITY);
  const size = Math.max(1, Math.floor(options.rangeSize));
  const check = (first: number): Promise<CheckedRange | null> | null => {
    if (first > end) return null;
    const last = Math.min(end, first + size - 1);
    const pending = source.checkRange(first, last, verifier.headSeqsWithin(first, last));
    // Observed now, so that stopping early leaves no unhandled rejection; awaiting it below still throws.
    pending.catch(() => undefined);
    return pending;
  };
  let first = verifier.nextSeq;
  let next = check(first);
  while (next) {
    const current = await next;
    const last = Math.min(end, first + size - 1);
    next = check(last + 1);
    if (current && verifier.acceptRange(current)) {
      first = last + 1;
      continue;
    }
    if (!(await feed(verifier, source.records(first, last)))) return verifier.result();
    if (verifier.nextSeq !== last + 1) {
      // The run ended early without a gap showing inside it: whatever comes next names the first missing seq.
      await feed(verifier, source.records(verifier.nextSeq, end));
      return verifier.finish();
    }
    first = last + 1;
  }
  return verifier.finish();
}

/** Feeds records until the source ends or a check fails; false once one failed. */
async function feed(verifier: ChainVerifier, records: ChainRecordSource): Promise<boolean> {
  for await (const item of records) {
    const batch: readonly ChainRecord[] = Array.isArray(item) ? item : [item as ChainRecord];
    for (const record of batch) if (!verifier.accept(record)) return false;
    if (verifier.done) break;
  }
  return !verifier.failed;
}
