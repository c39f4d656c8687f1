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

export interface EntityCounts {
  created: number;
  updated: number;
  restored: number;
  deactivated: number;
  unchanged: number;
  skipped: number;
  pulled: number;
  /** 1.1 per-role user records folded into another person (people only). */
  merged?: number;
  /** People re-keyed to new SIS ids by an approved id remap (people only). */
  remapped?: number;
  /** Sticky local values kept although the SIS changed them (people only). */
  conflicts?: number;
}

export type RunCounts = Partial<Record<RosterEntity, EntityCounts>>;

export function emptyEntityCounts(): EntityCounts {
  return { created: 0, updated: 0, restored: 0, deactivated: 0, unchanged: 0, skipped: 0, pulled: 0 };
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
  | { kind: 'id_remap'; entity: 'people'; count: number };

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

export function isTerminal(state: SyncRunState): boolean {
  return !ACTIVE_RUN_STATES.includes(state);
}
