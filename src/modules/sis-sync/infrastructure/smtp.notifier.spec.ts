import { describe, expect, it } from 'vitest';
import type { AlertsConfig } from '../../../config/index.js';
import { consecutiveFailuresAlert, runFailedAlert, runHeldAlert } from '../domain/sync-alert.js';
import type { SyncRun } from '../domain/sync-run.js';
import { renderAlertEmail, SmtpNotifier } from './smtp.notifier.js';

const connection = { id: 'c1', name: 'District SIS', provider: 'oneroster' as const };
const at = new Date('2026-11-25T08:00:00Z');

function run(overrides: Partial<SyncRun>): SyncRun {
  return {
    id: 'r1',
    state: 'failed',
    mode: 'full',
    trigger: 'schedule',
    attempt: 2,
    errorCode: 'SIS_SYNC.SOURCE_AUTH_FAILED',
    errorMessage: 'refused secret hunter2',
    issueCount: 1,
    counts: {},
    holdReasons: [],
    preview: null,
    createdAt: at,
    startedAt: at,
    finishedAt: at,
    ...overrides,
  } as SyncRun;
}

describe('alert emails', () => {
  it('a failed run: subject with the code, body with ids, description and links', () => {
    const email = renderAlertEmail(
      runFailedAlert({ id: 'a1', at, connection, run: run({}), linkBaseUrl: 'https://homeroom.test' }).alert,
    );
    expect(email.subject).toBe('[Homeroom] Sync failed: District SIS (SIS_SYNC.SOURCE_AUTH_FAILED)');
    expect(email.text).toContain('Error: SIS_SYNC.SOURCE_AUTH_FAILED - The SIS refused the credentials');
    expect(email.text).toContain('Run: GET https://homeroom.test/api/v1/sis/runs/r1');
    expect(email.text).not.toContain('hunter2');
  });

  it('a held run: reasons, preview counts, and how to approve or discard', () => {
    const held = run({
      state: 'held',
      errorCode: null,
      holdReasons: [
        { kind: 'threshold', entity: 'people', action: 'deactivate', count: 20, limit: '10% of 100 active records' },
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
          create: 0,
          update: 1,
          restore: 0,
          deactivate: 20,
          unchanged: 79,
          activeBefore: 100,
          samples: { deactivate: ['stu-1'] },
        },
      },
    });
    const email = renderAlertEmail(runHeldAlert({ id: 'a2', at, connection, run: held, linkBaseUrl: null }).alert);
    expect(email.subject).toBe('[Homeroom] Sync held for review: District SIS');
    expect(email.text).toContain('  - people: 20 to deactivate (limit 10% of 100 active records)');
    expect(email.text).toContain('  - people: 12 of 40 records rejected, 30% (limit 10% of 40 pulled records)');
    expect(email.text).toContain('  people: 0 / 1 / 0 / 20 / 79, 100');
    expect(email.text).toContain('Apply it: POST /api/v1/sis/runs/r1/approve');
    expect(email.text).toContain('Drop it:  POST /api/v1/sis/runs/r1/discard');
    expect(email.text).not.toContain('stu-1');
  });

  it('a failure streak', () => {
    const email = renderAlertEmail(
      consecutiveFailuresAlert({
        id: 'a3',
        at,
        connection: { ...connection, name: 'Evil\r\nBcc: someone@else' },
        run: run({}),
        linkBaseUrl: null,
        streak: { count: 3, firstRunId: 'r0', runIds: ['r1', 'rb', 'r0'] },
        threshold: 3,
      }).alert,
    );
    expect(email.subject).toBe('[Homeroom] Sync failed 3 times in a row: Evil Bcc: someone@else');
    expect(email.text).toContain('Failed runs in a row: 3 (alert threshold 3)');
    expect(email.text).toContain('Runs, newest first: r1, rb, r0');
  });

  it('is off without SMTP settings', () => {
    expect(new SmtpNotifier({ email: null } as AlertsConfig).enabled).toBe(false);
  });
});
