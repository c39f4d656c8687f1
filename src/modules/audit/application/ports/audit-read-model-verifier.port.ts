/** A read model row that is not what its projection computes from the log. */
export interface ReadModelDifference {
  table: string;
  seq: number;
  /** missing: the projection gives a row the table lacks; unexpected: the reverse; different: both, unequal. */
  kind: 'missing' | 'unexpected' | 'different';
  /** The row the projection computes (column → value as PostgreSQL's JSON prints it), or null. */
  expected: Record<string, unknown> | null;
  /** The row stored, or null. */
  actual: Record<string, unknown> | null;
}

export interface ReadModelVerification {
  ok: boolean;
  fromSeq: number;
  /** The last seq compared: toSeq if given, else the lowest position the read models have reached. */
  toSeq: number;
  /** Entries before the first difference whose rows all matched (all of fromSeq..toSeq when ok). */
  checkedEntries: number;
  tables: string[];
  firstDifference: ReadModelDifference | null;
}

export interface ReadModelRange {
  fromSeq?: number;
  toSeq?: number;
}

/**
 * Checks the audit read models against the log: recomputes each projection for a range of seqs and compares
 * the rows with the stored ones, without changing them.
 */
export abstract class AuditReadModelVerifier {
  abstract verify(range: ReadModelRange): Promise<ReadModelVerification>;
}
