import type { AuditEntryDraft } from '../domain/audit-entry.js';
import { SYSTEM_AUDIT_ACTOR } from './system-audit-actor.js';

/** Count keys that mean the run wrote to the roster mirror. */
const WRITE_COUNTS = ['created', 'updated', 'restored', 'deactivated'] as const;

/** What the audit trail needs of a settled sync run, from its event or from the run itself. */
export interface SettledSyncRun {
  runId: string;
  connectionId: string;
  outcome: string;
  dryRun: boolean;
  counts: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  settledAt: Date;
}

/**
 * The one `roster_sync.applied` entry of a run that changed the roster mirror (failed runs too: their committed
 * chunks stay applied), or null: dry runs, held runs and runs that changed nothing are not entries. The
 * per-record history is the run's change log.
 */
export function syncRunEntry(run: SettledSyncRun): AuditEntryDraft | null {
  if (run.dryRun || run.outcome === 'held') return null;
  const counts: Record<string, Record<string, number>> = {};
  let written = 0;
  for (const [entity, byAction] of Object.entries(run.counts)) {
    const numeric = Object.fromEntries(
      Object.entries(byAction).filter((pair): pair is [string, number] => {
        const value = pair[1];
        return typeof value === 'number' && Number.isFinite(value);
      }),
    );
    counts[entity] = numeric;
    for (const action of WRITE_COUNTS) written += numeric[action] ?? 0;
  }
  if (written === 0) return null;
  return {
    action: 'roster_sync.applied',
    resource: { type: 'sync_run', id: run.runId },
    actor: SYSTEM_AUDIT_ACTOR,
    studentIds: [],
    dataCategories: ['roster_sync'],
    outcome: 'allowed',
    origin: { channel: 'job' },
    details: { runId: run.runId, connectionId: run.connectionId, outcome: run.outcome, written, counts },
    occurredAt: run.settledAt,
  };
}
