import type { RosterEntity } from '@app/contracts';
import type { SisConnection, SisProvider } from './sis-connection.js';
import type {
  EntityCounts,
  HoldReason,
  RunCounts,
  RunPreview,
  SyncMode,
  SyncRun,
  SyncRunState,
  SyncTrigger,
} from './sync-run.js';

export const ALERT_CHANNELS = ['webhook', 'email'] as const;
export type AlertChannel = (typeof ALERT_CHANNELS)[number];

export const SYNC_ALERT_KINDS = ['run_failed', 'run_held', 'consecutive_failures'] as const;
export type SyncAlertKind = (typeof SYNC_ALERT_KINDS)[number];

/** The `type` of an alert as receivers see it (also the `X-Homeroom-Event` header of a webhook). */
export const SYNC_ALERT_TYPES = {
  run_failed: 'sis-sync.run-failed',
  run_held: 'sis-sync.run-held',
  consecutive_failures: 'sis-sync.consecutive-failures',
} as const satisfies Record<SyncAlertKind, string>;
export type SyncAlertType = (typeof SYNC_ALERT_TYPES)[SyncAlertKind];

export interface AlertLink {
  method: 'GET' | 'POST';
  /** Absolute when `ALERT_LINK_BASE_URL` is set, otherwise a path such as `/api/v1/sis/runs/<id>`. */
  url: string;
}

/** Preview counts only: the preview's sample sourcedIds identify students and never leave the system. */
export interface AlertPreviewEntry {
  create: number;
  update: number;
  restore: number;
  deactivate: number;
  unchanged: number;
  activeBefore: number;
}

/**
 * What an alert says. Ids, codes, counts and timestamps only (plus the connection's name, which the district
 * chose): no secrets, no error messages (they can quote SIS data), no record contents or sourcedIds.
 */
export interface SyncAlert {
  /** The alert id; webhooks send it as `X-Homeroom-Delivery`, the same on every retry. */
  id: string;
  type: SyncAlertType;
  version: 1;
  occurredAt: string;
  summary: string;
  connection: { id: string; name: string; provider: SisProvider };
  run: {
    id: string;
    state: SyncRunState;
    mode: SyncMode;
    trigger: SyncTrigger;
    attempt: number;
    errorCode: string | null;
    /** A fixed description of `errorCode`, never the run's own error message. */
    errorDescription: string | null;
    issueCount: number;
    counts: RunCounts;
    createdAt: string;
    startedAt: string | null;
    finishedAt: string | null;
    links: { run: AlertLink; issues: AlertLink };
  };
  /** Held runs: why, what the run would change, and how to decide. */
  hold: {
    reasons: HoldReason[];
    preview: Partial<Record<RosterEntity, AlertPreviewEntry>>;
    approve: AlertLink;
    discard: AlertLink;
  } | null;
  /** Consecutive-failure alerts: the streak (newest run first). */
  failures: { consecutive: number; threshold: number; runIds: string[] } | null;
}

export interface NewSyncAlert {
  kind: SyncAlertKind;
  /** One alert per key: `run_failed:<run>`, `run_held:<run>`, `consecutive_failures:<first run of the streak>`. */
  dedupeKey: string;
  connectionId: string;
  runId: string;
  alert: SyncAlert;
}

const ERROR_DESCRIPTIONS: Readonly<Record<string, string>> = {
  'SIS_SYNC.SOURCE_UNREACHABLE': 'The SIS could not be reached',
  'SIS_SYNC.SOURCE_AUTH_FAILED': 'The SIS refused the credentials',
  'SIS_SYNC.SOURCE_FORBIDDEN': 'The SIS refused access to a resource this connection needs',
  'SIS_SYNC.SOURCE_PROTOCOL_ERROR': 'The SIS answered in a way the connection does not understand',
  'SIS_SYNC.SOURCE_MALFORMED_PAGE': 'The SIS sent a malformed page',
  'SIS_SYNC.SOURCE_INCOMPLETE_LISTING': 'The SIS listing was incomplete, so nothing was applied',
  'SIS_SYNC.SOURCE_RETRIES_EXHAUSTED': 'The SIS kept failing after every retry',
  'SIS_SYNC.SOURCE_RESPONSE_TOO_LARGE':
    'The SIS sent a response larger than the limit (SIS_MAX_RESPONSE_BYTES); a smaller page size may help',
  'SIS_SYNC.CSV_INVALID': 'The CSV package is not valid',
  'SIS_SYNC.CONNECTION_NOT_FOUND': 'The connection no longer exists',
  'SIS_SYNC.RUN_ATTEMPTS_EXHAUSTED': 'The run was retried too many times',
  'SIS_SYNC.CHANGE_SET_LOST': 'PostgreSQL lost the staged change set (restart or failover); start the sync again',
  'SIS_SYNC.SECRET_UNREADABLE': 'The stored credential cannot be decrypted with the configured keys',
};

export function describeErrorCode(code: string | null): string | null {
  if (code === null) return null;
  return ERROR_DESCRIPTIONS[code] ?? 'See the run and its issues for details';
}

/** Where the links of an alert point. */
export function alertLinks(baseUrl: string | null, runId: string) {
  const at = (path: string) => `${baseUrl ?? ''}/api/v1/sis/runs/${runId}${path}`;
  return {
    run: { method: 'GET', url: at('') },
    issues: { method: 'GET', url: at('/issues') },
    approve: { method: 'POST', url: at('/approve') },
    discard: { method: 'POST', url: at('/discard') },
  } as const satisfies Record<string, AlertLink>;
}

interface AlertContext {
  id: string;
  at: Date;
  connection: Pick<SisConnection, 'id' | 'name' | 'provider'>;
  run: SyncRun;
  linkBaseUrl: string | null;
}

/** A run failed (after its retries): one alert per run. */
export function runFailedAlert(context: AlertContext): NewSyncAlert {
  const { run, connection } = context;
  const code = run.errorCode ?? 'unknown';
  return {
    kind: 'run_failed',
    dedupeKey: `run_failed:${run.id}`,
    connectionId: connection.id,
    runId: run.id,
    alert: baseAlert(context, 'run_failed', `Sync of "${connection.name}" failed: ${code}`),
  };
}

/** A run was held for review: one alert per run, with the reasons, the preview counts and the decision links. */
export function runHeldAlert(context: AlertContext): NewSyncAlert {
  const { run, connection } = context;
  const links = alertLinks(context.linkBaseUrl, run.id);
  const alert = baseAlert(
    context,
    'run_held',
    `Sync of "${connection.name}" is held for review (${run.holdReasons.length} reason${run.holdReasons.length === 1 ? '' : 's'})`,
  );
  alert.hold = {
    reasons: run.holdReasons.map(copyHoldReason),
    preview: previewCounts(run.preview),
    approve: links.approve,
    discard: links.discard,
  };
  return { kind: 'run_held', dedupeKey: `run_held:${run.id}`, connectionId: connection.id, runId: run.id, alert };
}

/** `threshold` or more failed runs in a row: one alert per streak (keyed by the streak's first failed run). */
export function consecutiveFailuresAlert(
  context: AlertContext & {
    streak: { count: number; firstRunId: string; runIds: readonly string[] };
    threshold: number;
  },
): NewSyncAlert {
  const { run, connection, streak } = context;
  const alert = baseAlert(
    context,
    'consecutive_failures',
    `Sync of "${connection.name}" failed ${streak.count} times in a row (latest: ${run.errorCode ?? 'unknown'})`,
  );
  alert.failures = { consecutive: streak.count, threshold: context.threshold, runIds: streak.runIds.slice(0, 50) };
  return {
    kind: 'consecutive_failures',
    dedupeKey: `consecutive_failures:${streak.firstRunId}`,
    connectionId: connection.id,
    runId: run.id,
    alert,
  };
}

function baseAlert(context: AlertContext, kind: SyncAlertKind, summary: string): SyncAlert {
  const { run, connection } = context;
  const links = alertLinks(context.linkBaseUrl, run.id);
  return {
    id: context.id,
    type: SYNC_ALERT_TYPES[kind],
    version: 1,
    occurredAt: context.at.toISOString(),
    summary,
    connection: { id: connection.id, name: connection.name, provider: connection.provider },
    run: {
      id: run.id,
      state: run.state,
      mode: run.mode,
      trigger: run.trigger,
      attempt: run.attempt,
      errorCode: run.errorCode,
      errorDescription: describeErrorCode(run.errorCode),
      issueCount: run.issueCount,
      counts: countsOnly(run.counts),
      createdAt: run.createdAt.toISOString(),
      startedAt: run.startedAt?.toISOString() ?? null,
      finishedAt: run.finishedAt?.toISOString() ?? null,
      links: { run: links.run, issues: links.issues },
    },
    hold: null,
    failures: null,
  };
}

function copyHoldReason(reason: HoldReason): HoldReason {
  switch (reason.kind) {
    case 'threshold':
      return {
        kind: 'threshold',
        entity: reason.entity,
        action: reason.action,
        count: reason.count,
        limit: reason.limit,
      };
    case 'id_remap':
      return { kind: 'id_remap', entity: reason.entity, count: reason.count };
    case 'rejected':
      return {
        kind: 'rejected',
        entity: reason.entity,
        count: reason.count,
        pulled: reason.pulled,
        percent: reason.percent,
        limit: reason.limit,
      };
  }
}

function previewCounts(preview: RunPreview | null): Partial<Record<RosterEntity, AlertPreviewEntry>> {
  const counts: Partial<Record<RosterEntity, AlertPreviewEntry>> = {};
  for (const [entity, entry] of Object.entries(preview ?? {}) as [
    RosterEntity,
    NonNullable<RunPreview[RosterEntity]>,
  ][]) {
    counts[entity] = {
      create: entry.create,
      update: entry.update,
      restore: entry.restore,
      deactivate: entry.deactivate,
      unchanged: entry.unchanged,
      activeBefore: entry.activeBefore,
    };
  }
  return counts;
}

/** Numbers only, whatever else a counts object might carry. */
function countsOnly(counts: RunCounts): RunCounts {
  const copy: RunCounts = {};
  for (const [entity, entry] of Object.entries(counts ?? {}) as [RosterEntity, EntityCounts | undefined][]) {
    if (!entry) continue;
    copy[entity] = Object.fromEntries(
      Object.entries(entry).filter((field): field is [string, number] => typeof field[1] === 'number'),
    ) as unknown as EntityCounts;
  }
  return copy;
}
