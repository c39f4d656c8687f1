import type { RosterEntity, RosterRecord } from '@app/contracts';

/** What one entity's pull yields: pages of normalised records, streamed so memory stays flat. */
export interface SisEntityPull<E extends RosterEntity = RosterEntity> {
  /**
   * True when the listing is a complete snapshot of the connection's scope for this entity (a full REST
   * pull, or a `bulk` CSV file). Only then may records missing from it be deactivated.
   */
  snapshot: boolean;
  pages: AsyncIterable<RosterRecord<E>[]>;
}

export interface SisPullOptions {
  mode: 'full' | 'delta';
  /** Delta watermark: records modified at or after this instant. */
  since?: Date;
  signal?: AbortSignal;
  /** A record the source had to skip (bad value, missing required field): reported on the run, not fatal. */
  onIssue?: (issue: SisRecordIssue) => void;
}

/** Observes the source's HTTP traffic, for metrics, progress and connection health. */
export interface SisTrafficObserver {
  onRequest(event: { status: number | 'error'; durationMs: number; retry: boolean }): void;
  /** A new access token was obtained; `expiresAt` null when the SIS did not say. */
  onToken?(event: { expiresAt: Date | null }): void;
}

/** `upload`: a CSV connection's verdict (no SIS to reach; whether and how its packages are taken and checked). */
export type SisCheckName = 'reachability' | 'credentials' | 'upload' | `permission:${string}`;

/** One verdict of a connection test: what was checked, whether it passed, and why not in plain words. */
export interface SisCheckResult {
  check: SisCheckName;
  ok: boolean;
  detail: string;
  durationMs: number;
}

/**
 * One SIS as the sync engine sees it. Adapters: `OneRosterRestSisSource`, `OneRosterCsvSisSource`,
 * `PowerSchoolSisSource`. A source fails with `SisSourceError` for anything that makes a pull incomplete
 * or untrustworthy (protocol violations, malformed pages, exhausted retries, bad credentials).
 */
export abstract class SisSource {
  /** Entities this source supplies, in the order they should be pulled. */
  abstract entities(): readonly RosterEntity[];

  abstract pull<E extends RosterEntity>(entity: E, options: SisPullOptions): Promise<SisEntityPull<E>>;

  /**
   * False when the SIS has no changed-since query for this connection: a delta run then pulls everything
   * and diffs it against the mirror (a full run, and the run record says so).
   */
  supportsDelta(): boolean {
    return true;
  }

  /**
   * The mode this source's data has whatever the run asked, or null when it pulls as asked. A CSV package's
   * manifest decides: delta files only is a delta (changes and deletions, nothing deactivated for being absent);
   * any bulk file a full pull (each bulk file a snapshot of its entity). The run records this mode.
   */
  fixedMode(): 'full' | 'delta' | null {
    return null;
  }

  /** How this source identifies itself on the run record (e.g. `OneRoster 1.2 REST https://…`). */
  abstract describe(): string;

  /**
   * A quick health check without pulling data: can the SIS be reached, do the credentials work, and which
   * resources does it let this connection read (one small request per resource). Never throws for a failed
   * check; every check has a verdict. Must finish within the connection's request timeout per request.
   */
  abstract checkAccess(signal?: AbortSignal): Promise<SisCheckResult[]>;

  abstract close(): Promise<void>;
}

export type SisSourceErrorCode =
  | 'SIS_SYNC.SOURCE_UNREACHABLE'
  | 'SIS_SYNC.SOURCE_AUTH_FAILED'
  | 'SIS_SYNC.SOURCE_FORBIDDEN'
  | 'SIS_SYNC.SOURCE_PROTOCOL_ERROR'
  | 'SIS_SYNC.SOURCE_MALFORMED_PAGE'
  | 'SIS_SYNC.SOURCE_INCOMPLETE_LISTING'
  | 'SIS_SYNC.SOURCE_RETRIES_EXHAUSTED'
  | 'SIS_SYNC.SOURCE_RESPONSE_TOO_LARGE'
  | 'SIS_SYNC.CSV_INVALID';

/** One of several problems that failed a pull together (e.g. each structural problem of a CSV package). */
export interface SisSourceProblem {
  field: string | null;
  message: string;
}

/** A pull could not be completed or trusted. The run fails and nothing from the entity is applied. */
export class SisSourceError extends Error {
  constructor(
    readonly code: SisSourceErrorCode,
    message: string,
    readonly entity?: RosterEntity,
    readonly field?: string,
    /** Every problem found, each recorded as an issue of the run; empty when the message is the only one. */
    readonly problems: readonly SisSourceProblem[] = [],
  ) {
    super(message);
    this.name = 'SisSourceError';
  }
}

/** Per-record problems a source can report without failing the pull (the record is skipped). */
export interface SisRecordIssue {
  entity: RosterEntity;
  sourcedId: string | null;
  field: string | null;
  message: string;
  /**
   * `record` (the default): a record of `entity` that the listing holds but that could not be used. It is skipped
   * and still present: the mirror keeps it as it is, it never counts as absent. Without a sourcedId the listing is
   * no longer known to be complete, so nothing of the entity is deactivated for being absent in that run.
   * `detail`: a part of a record (a roles.csv row of a user); the record itself was read or is reported on its own.
   */
  subject?: 'record' | 'detail';
  /**
   * `error` (the default): the record (or detail) was skipped. `warning`: nothing was skipped, the run only says how
   * something was read or what was tolerated (an unmapped OneRoster extension value, a status `inactive`, an ignored
   * bad timestamp, empty trailing fields); reported once per run, not per record, and never counted as an error of
   * the run.
   */
  severity?: 'error' | 'warning';
}
