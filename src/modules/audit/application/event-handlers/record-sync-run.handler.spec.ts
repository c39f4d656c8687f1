import { SisSyncRunSettledV1, type SyncRunOutcome } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import type { AuditEntryDraft } from '../../domain/audit-entry.js';
import { AuditLog, type AppendedAuditEntry } from '../ports/audit-log.port.js';
import { RecordSyncRunHandler } from './record-sync-run.handler.js';

class RecordingAuditLog extends AuditLog {
  readonly drafts: AuditEntryDraft[] = [];

  append(drafts: readonly AuditEntryDraft[]): Promise<AppendedAuditEntry[]> {
    this.drafts.push(...drafts);
    return Promise.resolve([]);
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
