import type { SyncRun } from '../../domain/sync-run.js';

/**
 * A run as the CLI prints it with `--json`: states, counts, hold reasons and the error. Preview samples (the
 * sourcedIds of students) are left out, as in the HTTP list: reading them is an audited access.
 */
export function syncRunDocument(run: SyncRun): Record<string, unknown> {
  const preview = run.preview
    ? Object.fromEntries(
        Object.entries(run.preview).map(([entity, { samples: _samples, ...counts }]) => [entity, counts]),
      )
    : null;
  return {
    id: run.id,
    connectionId: run.connectionId,
    state: run.state,
    mode: run.mode,
    dryRun: run.dryRun,
    remaster: run.remaster,
    trigger: run.trigger,
    sourceDescription: run.sourceDescription,
    holdReasons: run.holdReasons,
    counts: run.counts,
    preview,
    issueCount: run.issueCount,
    error: run.errorCode ? { code: run.errorCode, message: run.errorMessage } : null,
    approvedBy: run.approvedBy,
    approvedAt: run.approvedAt?.toISOString() ?? null,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}

/** The human summary: state, source, a table of counts (the preview of a held or dry run), hold reasons, error. */
export function printSyncRunSummary(run: SyncRun): void {
  console.log(`Run ${run.id}: ${run.state}${run.dryRun ? ' (dry run: nothing applied)' : ''}`);
  if (run.sourceDescription) console.log(`Source: ${run.sourceDescription}`);
  const rows = Object.entries(run.state === 'held' || run.dryRun ? (run.preview ?? {}) : run.counts).map(
    ([entity, counts]) => ({ entity, ...(counts as object) }),
  );
  if (rows.length > 0) console.table(rows.map(({ samples: _samples, ...row }: Record<string, unknown>) => row));
  if (run.holdReasons.length > 0) {
    console.log('Held for review:');
    for (const reason of run.holdReasons) console.log(`  - ${describeHoldReason(reason)}`);
    console.log(
      `Approve with \`homeroom runs approve ${run.id}\` or discard with \`homeroom runs discard ${run.id}\`.`,
    );
  }
  if (run.issueCount > 0) console.log(`${run.issueCount} issue(s): GET /api/v1/sis/runs/${run.id}/issues`);
  if (run.errorCode) console.log(`Error ${run.errorCode}: ${run.errorMessage ?? ''}`);
}

export function describeHoldReason(reason: SyncRun['holdReasons'][number]): string {
  switch (reason.kind) {
    case 'id_remap':
      return `${reason.count} people changed SIS ids (id remap)`;
    case 'rejected':
      return `${reason.entity} rejected: ${reason.count} of ${reason.pulled} pulled (${reason.percent}%) exceeds ${reason.limit}`;
    case 'threshold':
      return `${reason.entity} ${reason.action}: ${reason.count} exceeds ${reason.limit}`;
  }
}
