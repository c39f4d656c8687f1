import { describe, expect, it } from 'vitest';
import type { SisConnection } from './sis-connection.js';
import { consecutiveFailuresAlert, runFailedAlert, runHeldAlert } from './sync-alert.js';
import type { SyncRun } from './sync-run.js';

const connection: Pick<SisConnection, 'id' | 'name' | 'provider'> = {
  id: 'c0000000-0000-4000-8000-000000000001',
  name: 'District SIS',
  provider: 'oneroster',
};

function run(overrides: Partial<SyncRun> = {}): SyncRun {
  return {
    id: 'r0000000-0000-4000-8000-000000000001',
    connectionId: connection.id,
    mode: 'full',
    dryRun: false,
    trigger: 'schedule',
    state: 'failed',
    requestedBy: null,
    sourceDescription: 'OneRoster 1.2 REST https://sis.test',
    deltaSince: null,
    importFile: null,
    counts: { people: { created: 1, updated: 0, restored: 0, deactivated: 0, unchanged: 3, skipped: 0, pulled: 4 } },
    preview: null,
    holdReasons: [],
    checkpoint: { phase: 'pull' },
    issueCount: 2,
    errorCode: 'SIS_SYNC.SOURCE_AUTH_FAILED',
    errorMessage: 'The token endpoint refused client secret s3cr3t for student Jane Doe',
    attempt: 1,
    cancelRequested: false,
    approvedBy: null,
    approvedAt: null,
    createdAt: new Date('2026-11-25T08:00:00Z'),
    startedAt: new Date('2026-11-25T08:00:01Z'),
    finishedAt: new Date('2026-11-25T08:00:05Z'),
    ...overrides,
  } as SyncRun;
}

const at = new Date('2026-11-25T08:00:06Z');

describe('sync alerts', () => {
  it('a failed run: ids, codes and counts, never the error message', () => {
    const { alert, dedupeKey, kind } = runFailedAlert({ id: 'a1', at, connection, run: run(), linkBaseUrl: null });
    expect(kind).toBe('run_failed');
    expect(dedupeKey).toBe('run_failed:r0000000-0000-4000-8000-000000000001');
    expect(alert).toMatchObject({
      id: 'a1',
      type: 'sis-sync.run-failed',
      occurredAt: '2026-11-25T08:00:06.000Z',
      connection,
      run: {
        errorCode: 'SIS_SYNC.SOURCE_AUTH_FAILED',
        errorDescription: 'The SIS refused the credentials',
        issueCount: 2,
        counts: { people: { created: 1, pulled: 4 } },
        links: { run: { method: 'GET', url: '/api/v1/sis/runs/r0000000-0000-4000-8000-000000000001' } },
      },
      hold: null,
      failures: null,
    });
    const text = JSON.stringify(alert);
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('Jane');
    expect(text).not.toContain('sis.test');
  });

  it('a held run: reasons, preview counts without samples, approve and discard links', () => {
    const held = run({
      state: 'held',
      errorCode: null,
      holdReasons: [
        { kind: 'threshold', entity: 'people', action: 'deactivate', count: 20, limit: '10% of 100 active records' },
        { kind: 'id_remap', entity: 'people', count: 7 },
        {
          kind: 'rejected',
          entity: 'people',
          count: 12,
          pulled: 40,
          percent: 30,
          limit: '10% of 40 pulled records',
        },
      ],
      preview: {
        people: {
          create: 1,
          update: 2,
          restore: 0,
          deactivate: 20,
          unchanged: 78,
          activeBefore: 100,
          samples: { deactivate: ['student-0001', 'student-0002'] },
        },
      },
    });
    const { alert, kind } = runHeldAlert({ id: 'a2', at, connection, run: held, linkBaseUrl: 'https://homeroom.test' });
    expect(kind).toBe('run_held');
    expect(alert.type).toBe('sis-sync.run-held');
    expect(alert.hold).toEqual({
      reasons: held.holdReasons,
      preview: { people: { create: 1, update: 2, restore: 0, deactivate: 20, unchanged: 78, activeBefore: 100 } },
      approve: { method: 'POST', url: `https://homeroom.test/api/v1/sis/runs/${held.id}/approve` },
      discard: { method: 'POST', url: `https://homeroom.test/api/v1/sis/runs/${held.id}/discard` },
    });
    expect(JSON.stringify(alert)).not.toContain('student-0001');
  });

  it('a failure streak: keyed by its first run, so it alerts once', () => {
    const streak = { count: 3, firstRunId: 'r-first', runIds: ['r-3', 'r-2', 'r-first'] };
    const first = consecutiveFailuresAlert({
      id: 'a3',
      at,
      connection,
      run: run(),
      linkBaseUrl: null,
      streak,
      threshold: 3,
    });
    const later = consecutiveFailuresAlert({
      id: 'a4',
      at,
      connection,
      run: run({ id: 'r-4' }),
      linkBaseUrl: null,
      streak: { ...streak, count: 4, runIds: ['r-4', ...streak.runIds] },
      threshold: 3,
    });
    expect(first.dedupeKey).toBe('consecutive_failures:r-first');
    expect(later.dedupeKey).toBe(first.dedupeKey);
    expect(first.alert.failures).toEqual({ consecutive: 3, threshold: 3, runIds: ['r-3', 'r-2', 'r-first'] });
    expect(first.alert.type).toBe('sis-sync.consecutive-failures');
  });
});
