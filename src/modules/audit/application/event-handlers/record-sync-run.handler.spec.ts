import { SisSyncRunSettledV1, type SyncRunOutcome } from '@app/contracts';
import type { Clock } from '@app/ddd';
import type { QueryBus } from '@nestjs/cqrs';
import { describe, expect, it } from 'vitest';
import type { ListSyncRunsQuery, SyncRun } from '../../../sis-sync/index.js';
import type { AuditEntryDraft } from '../../domain/audit-entry.js';
import { AuditLog, type AppendedAuditEntry } from '../ports/audit-log.port.js';
import { RecordSyncRunsJob } from '../record-sync-runs.job.js';
import { RecordSyncRunHandler } from './record-sync-run.handler.js';

class RecordingAuditLog extends AuditLog {
  readonly drafts: AuditEntryDraft[] = [];

  append(drafts: readonly AuditEntryDraft[]): Promise<AppendedAuditEntry[]> {
    this.drafts.push(...drafts);
    return Promise.resolve([]);
  }

  appendUnlessRecorded(draft: AuditEntryDraft): Promise<boolean> {
    const recorded = this.drafts.some(
      (stored) =>
        stored.action === draft.action &&
        stored.resource.type === draft.resource.type &&
        stored.resource.id === draft.resource.id,
    );
    if (!recorded) this.drafts.push(draft);
    return Promise.resolve(!recorded);
  }
}

const RUN = '0b6c1f0e-5d4a-4c3b-8a29-1f0e9d8c7b6a';
const CONNECTION = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
const none = { pulled: 0, created: 0, updated: 0, restored: 0, deactivated: 0, unchanged: 0, skipped: 0 };

function settled(outcome: SyncRunOutcome, dryRun: boolean, counts: Record<string, Record<string, number>>) {
  return new SisSyncRunSettledV1(RUN, CONNECTION, outcome, dryRun, counts);
}

async function record(event: SisSyncRunSettledV1): Promise<AuditEntryDraft[]> {
  const log = new RecordingAuditLog();
  await new RecordSyncRunHandler(log).record(event);
  return log.drafts;
}

describe('RecordSyncRunHandler', () => {
  it('records a run that wrote to the roster as one system entry with its counts', async () => {
    const counts = {
      people: { ...none, pulled: 40, created: 30, updated: 2 },
      enrollments: { ...none, deactivated: 3 },
    };
    const [draft, ...rest] = await record(settled('succeeded_with_issues', false, counts));
    expect(rest).toEqual([]);
    expect(draft).toMatchObject({
      action: 'roster_sync.applied',
      resource: { type: 'sync_run', id: RUN },
      actor: { type: 'system', id: null },
      studentIds: [],
      dataCategories: ['roster_sync'],
      outcome: 'allowed',
      origin: { channel: 'job' },
      details: { runId: RUN, connectionId: CONNECTION, outcome: 'succeeded_with_issues', written: 35, counts },
    });
  });

  it('records a failed run whose committed chunks changed the roster', async () => {
    const drafts = await record(settled('failed', false, { people: { ...none, created: 1000 } }));
    expect(drafts.map((draft) => draft.details?.['outcome'])).toEqual(['failed']);
  });

  it.each([
    ['a dry run', settled('succeeded', true, { people: { ...none, created: 30 } })],
    ['a held run', settled('held', false, { people: { ...none, pulled: 30 } })],
    ['a discarded run', settled('cancelled', false, { people: { ...none, pulled: 30 } })],
    ['a run that changed nothing', settled('succeeded', false, { people: { ...none, pulled: 30, unchanged: 30 } })],
  ])('records nothing for %s', async (_name, event) => {
    expect(await record(event)).toEqual([]);
  });
});

describe('RecordSyncRunsJob', () => {
  const NOW = new Date('2026-11-25T12:00:00Z');
  const minutesAgo = (minutes: number): Date => new Date(NOW.getTime() - minutes * 60_000);
  const wrote = { people: { ...none, pulled: 10, created: 10 } };

  function run(id: string, fields: Partial<SyncRun>): SyncRun {
    return {
      id,
      connectionId: CONNECTION,
      state: 'succeeded',
      dryRun: false,
      counts: wrote,
      createdAt: minutesAgo(30),
      finishedAt: minutesAgo(20),
      ...fields,
    } as SyncRun;
  }

  /** Runs newest first, two per page, as ListSyncRunsQuery pages them. */
  function listing(runs: SyncRun[]): QueryBus {
    return {
      execute: (query: ListSyncRunsQuery) => {
        const start = query.cursor ? Number(query.cursor) : 0;
        const next = start + 2 < runs.length ? String(start + 2) : null;
        return Promise.resolve({ items: runs.slice(start, start + 2), nextCursor: next });
      },
    } as unknown as QueryBus;
  }

  const clock: Clock = { now: () => NOW };

  it('writes the entry of a settled run the live path missed, once, and only for runs that need one', async () => {
    const log = new RecordingAuditLog();
    await new RecordSyncRunHandler(log).record(settled('succeeded', false, wrote));
    const runs = [
      run('missed-a', {}),
      run(RUN, {}),
      run('held', { state: 'held', finishedAt: null }),
      run('dry', { dryRun: true }),
      run('running', { state: 'running', finishedAt: null }),
      run('missed-failed', { state: 'failed', counts: { enrollments: { ...none, deactivated: 4 } } }),
      run('unchanged', { counts: { people: { ...none, pulled: 10, unchanged: 10 } } }),
      run('settled-two-days-ago', { createdAt: minutesAgo(3000), finishedAt: minutesAgo(2900) }),
      run('created-long-ago', { createdAt: minutesAgo(50 * 24 * 60), finishedAt: minutesAgo(10) }),
    ];
    const job = new RecordSyncRunsJob(listing(runs), log, clock);

    expect(await job.recordMissed()).toBe(2);
    expect(log.drafts.map((draft) => draft.resource.id)).toEqual([RUN, 'missed-a', 'missed-failed']);
    expect(log.drafts[1]).toMatchObject({
      action: 'roster_sync.applied',
      occurredAt: minutesAgo(20),
      details: { runId: 'missed-a', outcome: 'succeeded', written: 10 },
    });
    expect(await job.recordMissed()).toBe(0);
    expect(log.drafts).toHaveLength(3);
  });
});
