import type { RosterEntity } from '@app/contracts';
import type { SyncAction, ThresholdSettings } from './sis-connection.js';

export const SYNC_RUN_STATES = [
  'queued',
  'running',
  'held',
  'succeeded',
  'succeeded_with_issues',
  'failed',
  'cancelled',
] as const;
export type SyncRunState = (typeof SYNC_RUN_STATES)[number];

export const ACTIVE_RUN_STATES: readonly SyncRunState[] = ['queued', 'running', 'held'];

export type SyncMode = 'full' | 'delta';
export type SyncTrigger = 'manual' | 'schedule' | 'import' | 'cli';

/**
 * One entity's counts in a run. `pulled`: the records the source's listing held for the run (in the connection's
 * school scope), rejected ones included; `rejected`: of them, the records the source could not read or normalise
 * (a bad value, a missing required field, an unreadable row), which were skipped and reported as issues. The
 * apply counts (`created` … `skipped`) cover the records that were not rejected. A 1.1 per-role user record folded
 * into another person counts as pulled (and as `merged`), not as rejected.
 */
export interface EntityCounts {
  created: number;
  updated: number;
  restored: number;
  deactivated: number;
  unchanged: number;
  skipped: number;
  pulled: number;
  /** Set for every entity a run pulled; absent in runs recorded before it was counted. */
  rejected?: number;
  /** 1.1 per-role user records folded into another person (people only). */
  merged?: number;
  /** People re-keyed to new SIS ids by an approved id remap (people only). */
  remapped?: number;
  /** Sticky local values kept although the SIS changed them (people only). */
  conflicts?: number;
}

export type RunCounts = Partial<Record<RosterEntity, EntityCounts>>;

export function emptyEntityCounts(): EntityCounts {
  return { created: 0, updated: 0, restored: 0, deactivated: 0, unchanged: 0, skipped: 0, pulled: 0, rejected: 0 };
}

/** Where a run is, so a retried job resumes instead of starting over. */
export type RunCheckpoint =
  | { phase: 'pull' }
  | { phase: 'review' }
  | { phase: 'apply'; entity: RosterEntity; after: string | null; remapped: boolean }
  | { phase: 'deactivate'; entity: RosterEntity }
  | { phase: 'done' };

export interface PreviewEntry {
  create: number;
  update: number;
  restore: number;
  deactivate: number;
  unchanged: number;
  /** Records the apply would skip (a required reference missing); absent from previews stored before it existed. */
  skip?: number;
  activeBefore: number;
  samples: Partial<Record<'create' | 'update' | 'restore' | 'deactivate' | 'skip', string[]>>;
}

export type RunPreview = Partial<Record<RosterEntity, PreviewEntry>>;

export type HoldReason =
  | { kind: 'threshold'; entity: RosterEntity; action: SyncAction; count: number; limit: string }
  | { kind: 'id_remap'; entity: 'people'; count: number }
  /** `count` of the entity's `pulled` records were rejected (`percent` of them, one decimal), past `limit`. */
  | { kind: 'rejected'; entity: RosterEntity; count: number; pulled: number; percent: number; limit: string };

export interface SyncRun {
  id: string;
  connectionId: string;
  mode: SyncMode;
  dryRun: boolean;
  trigger: SyncTrigger;
  state: SyncRunState;
  requestedBy: string | null;
  sourceDescription: string | null;
  deltaSince: Date | null;
  importFile: string | null;
  /** An import's file as it was uploaded (sanitised by `uploadedFileName`); storage keeps its own name. */
  importFileName: string | null;
  counts: RunCounts;
  preview: RunPreview | null;
  holdReasons: HoldReason[];
  checkpoint: RunCheckpoint;
  issueCount: number;
  errorCode: string | null;
  errorMessage: string | null;
  attempt: number;
  cancelRequested: boolean;
  approvedBy: string | null;
  approvedAt: Date | null;
  /** SIS values replace sticky local edits in this run. */
  remaster: boolean;
  restoredAt: Date | null;
  restoredBy: string | null;
  restoreSummary: unknown;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** Which limits a change set exceeds. Restores count as creates; a limit applies per entity, or `*` for all. */
export function exceededThresholds(preview: RunPreview, thresholds: ThresholdSettings): HoldReason[] {
  const reasons: HoldReason[] = [];
  for (const [entity, entry] of Object.entries(preview) as [RosterEntity, PreviewEntry][]) {
    const counts: Record<SyncAction, number> = {
      create: entry.create + entry.restore,
      update: entry.update,
      deactivate: entry.deactivate,
    };
    for (const action of ['create', 'update', 'deactivate'] as const) {
      const rule = thresholds[entity]?.[action] ?? thresholds['*']?.[action];
      const count = counts[action];
      if (!rule || count === 0) continue;
      if (rule.maxCount !== undefined && count > rule.maxCount) {
        reasons.push({ kind: 'threshold', entity, action, count, limit: `${rule.maxCount} records` });
      } else if (
        rule.maxPercent !== undefined &&
        entry.activeBefore > 0 &&
        (count / entry.activeBefore) * 100 > rule.maxPercent
      ) {
        reasons.push({
          kind: 'threshold',
          entity,
          action,
          count,
          limit: `${rule.maxPercent}% of ${entry.activeBefore} active records`,
        });
      }
    }
  }
  return reasons;
}

/**
 * Entities whose rejected share passes the connection's `reject` limit (the entity's own rule, else `*`): more
 * rejected records than `maxCount`, or more than `maxPercent` % of the records pulled. A run that rejected most
 * of a listing must not apply the rest as if it were the district.
 */
export function exceededRejectLimits(counts: RunCounts, thresholds: ThresholdSettings): HoldReason[] {
  const reasons: HoldReason[] = [];
  for (const [entity, entry] of Object.entries(counts) as [RosterEntity, EntityCounts | undefined][]) {
    const count = entry?.rejected ?? 0;
    const pulled = entry?.pulled ?? 0;
    const rule = thresholds[entity]?.reject ?? thresholds['*']?.reject;
    if (!rule || count === 0 || pulled === 0) continue;
    const percent = Math.round((count / pulled) * 1000) / 10;
    const reason = { kind: 'rejected' as const, entity, count, pulled, percent };
    if (rule.maxCount !== undefined && count > rule.maxCount) {
      reasons.push({ ...reason, limit: `${rule.maxCount} records` });
    } else if (rule.maxPercent !== undefined && (count / pulled) * 100 > rule.maxPercent) {
      reasons.push({ ...reason, limit: `${rule.maxPercent}% of ${pulled} pulled records` });
    }
  }
  return reasons;
}

export function isTerminal(state: SyncRunState): boolean {
  return !ACTIVE_RUN_STATES.includes(state);
}

/** Longest uploaded file name a run records, in characters (code points). */
export const MAX_UPLOADED_FILE_NAME = 200;

/**
 * An uploaded file's name as the client sent it, made safe to record and show: the last path segment only, with
 * control and format characters (bidi overrides included) removed, whitespace collapsed and at most
 * `MAX_UPLOADED_FILE_NAME` characters (the extension kept). Null when nothing usable is left.
 */
export function uploadedFileName(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const cleaned = (raw.split(/[/\\]/).at(-1) ?? '')
    .replace(/[\t\n\v\f\r\u0085\u2028\u2029]/g, ' ')
    .replace(/[\p{Cc}\p{Cf}\p{Cs}]/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (cleaned === '' || cleaned === '.' || cleaned === '..') return null;
  const characters = [...cleaned];
  if (characters.length <= MAX_UPLOADED_FILE_NAME) return cleaned;
  const extension = /\.[^.\s]{1,10}$/u.exec(cleaned)?.[0] ?? '';
  const kept = MAX_UPLOADED_FILE_NAME - 1 - [...extension].length;
  return `${characters.slice(0, kept).join('')}…${extension}`;
}
