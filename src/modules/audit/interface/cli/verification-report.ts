import type { ChainVerification } from '@app/audit-chain';
import type { ReadModelVerification } from '../../application/ports/audit-read-model-verifier.port.js';

/** The verifier's verdict as an operator reads it (or as JSON, for scripts). Returns the exit code. */
export function reportVerification(
  result: ChainVerification & { bundle?: unknown; fromSeq?: number; toSeq?: number },
  options: { json?: boolean; subject: string },
  print: (line: string) => void = (line) => console.log(line),
): number {
  if (options.json) {
    // Buffers (heads) reach the replacer already as { type: 'Buffer', data }; print them as base64.
    const replacer = (_key: string, value: unknown): unknown =>
      isSerialisedBuffer(value) ? Buffer.from(value.data).toString('base64') : value;
    print(JSON.stringify(result, replacer, 2));
    return result.ok ? 0 : 1;
  }
  const checkpoint = result.lastCheckpoint
    ? `checkpoint ${result.lastCheckpoint.id} (${result.lastCheckpoint.size} entries, signed ${result.lastCheckpoint.time} by key ${result.lastCheckpoint.keyId})`
    : 'no signed checkpoint';
  if (result.ok) {
    print(
      `${options.subject} OK: ${result.checkedEntries} entries verified (${result.purgedEntries} purged by retention), ` +
        `up to seq ${result.lastSeq}; last checkpoint passed: ${checkpoint}.`,
    );
    return 0;
  }
  const problem = result.problem!;
  const where =
    result.firstBadSeq !== null
      ? ` at seq ${result.firstBadSeq}`
      : problem.checkpointId !== undefined
        ? ` at checkpoint ${problem.checkpointId}`
        : '';
  print(`${options.subject} verification FAILED${where}: ${problem.code}`);
  print(`  ${problem.message}`);
  print(`  ${result.checkedEntries} entries verified before that; last checkpoint passed: ${checkpoint}.`);
  return 1;
}

function isSerialisedBuffer(value: unknown): value is { type: 'Buffer'; data: number[] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  );
}

/** The read models' verdict (`audit verify --read-models`). Returns the exit code. */
export function reportReadModelVerification(
  result: ReadModelVerification,
  options: { json?: boolean },
  print: (line: string) => void = (line) => console.log(line),
): number {
  if (options.json) {
    print(JSON.stringify({ readModels: result }, null, 2));
    return result.ok ? 0 : 1;
  }
  const range = result.toSeq >= result.fromSeq ? `seqs ${result.fromSeq}–${result.toSeq}` : 'no entries';
  if (result.ok) {
    print(`Audit read models OK: ${result.tables.join(', ')} match the log over ${range}.`);
    return 0;
  }
  const difference = result.firstDifference!;
  print(`Audit read models verification FAILED at seq ${difference.seq}: ${difference.table} row ${difference.kind}`);
  print(
    `  expected (recomputed from the log): ${difference.expected ? JSON.stringify(difference.expected) : 'no row'}`,
  );
  print(`  stored: ${difference.actual ? JSON.stringify(difference.actual) : 'no row'}`);
  print(`  ${result.checkedEntries} entries matched before that (${range}).`);
  return 1;
}
