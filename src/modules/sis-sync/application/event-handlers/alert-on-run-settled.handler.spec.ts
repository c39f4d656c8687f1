import { SisSyncRunSettledV1 } from '@app/contracts';
import { Clock } from '@app/ddd';
import type { JobQueue } from '@app/queue';
import { describe, expect, it } from 'vitest';
import type { AlertsConfig } from '../../../../config/index.js';
import type { FailureStreak } from '../../domain/connection-health.js';
import type { SisConnection } from '../../domain/sis-connection.js';
import type { AlertChannel, NewSyncAlert, SyncAlert } from '../../domain/sync-alert.js';
import type { SyncRun } from '../../domain/sync-run.js';
import type { ConnectionHealthRepository } from '../ports/connection-health.repository.js';
import { Notifier } from '../ports/notifier.port.js';
import type { SisConnectionRepository } from '../ports/sis-connection.repository.js';
import type { StoredSyncAlert, SyncAlertRepository } from '../ports/sync-alert.repository.js';
import type { SyncRunRepository } from '../ports/sync-run.repository.js';
import { AlertOnRunSettledHandler } from './alert-on-run-settled.handler.js';

const CONNECTION = { id: 'c1', name: 'District SIS', provider: 'oneroster' } as SisConnection;

class FixedClock extends Clock {
  now(): Date {
    return new Date('2026-11-25T08:00:00Z');
  }
}

class FakeNotifier extends Notifier {
  constructor(
    readonly channel: AlertChannel,
    readonly enabled: boolean,
  ) {
    super();
  }
  async send(_alert: SyncAlert): Promise<void> {}
}

function run(id: string, overrides: Partial<SyncRun> = {}): SyncRun {
  return {
    id,
    connectionId: CONNECTION.id,
    mode: 'full',
    dryRun: false,
    trigger: 'schedule',
    state: 'failed',
    counts: {},
    preview: null,
    holdReasons: [],
    issueCount: 0,
    errorCode: 'SIS_SYNC.SOURCE_UNREACHABLE',
    errorMessage: 'connect ECONNREFUSED',
    attempt: 1,
    createdAt: new Date('2026-11-25T07:59:00Z'),
    startedAt: null,
    finishedAt: null,
    ...overrides,
  } as SyncRun;
}

function world(options: { channels?: [AlertChannel, boolean][]; threshold?: number } = {}) {
  const runs = new Map<string, SyncRun>();
  let streak: FailureStreak | null = null;
  const stored = new Map<string, NewSyncAlert & { id: string }>();
  const jobs = new Map<string, unknown>();
  const alerts = {
    add: async (alert: NewSyncAlert) => {
      const existing = stored.get(alert.dedupeKey);
      const row = existing ?? { ...alert, id: alert.alert.id };
      stored.set(alert.dedupeKey, row);
      const view: StoredSyncAlert = { id: row.id, alert: row.alert, delivered: {} };
      return { created: !existing, stored: view };
    },
  } as unknown as SyncAlertRepository;
  const handler = new AlertOnRunSettledHandler(
    { findById: async (id: string) => runs.get(id) ?? null } as unknown as SyncRunRepository,
    {
      findById: async (id: string) => (id === CONNECTION.id ? CONNECTION : null),
    } as unknown as SisConnectionRepository,
    { failureStreak: async () => streak } as unknown as ConnectionHealthRepository,
    alerts,
    {
      enqueue: async (_name: string, payload: unknown, enqueue?: { jobId?: string }) => {
        jobs.set(enqueue?.jobId ?? String(jobs.size), payload);
        return '';
      },
    } as unknown as JobQueue,
    (
      options.channels ?? [
        ['webhook', true],
        ['email', true],
      ]
    ).map(([channel, enabled]) => new FakeNotifier(channel, enabled)),
    { consecutiveFailures: options.threshold ?? 3, linkBaseUrl: null } as AlertsConfig,
    new FixedClock(),
  );
  const settle = async (settled: SyncRun, outcome = settled.state) => {
    runs.set(settled.id, settled);
    await handler.decide(new SisSyncRunSettledV1(settled.id, CONNECTION.id, outcome as 'failed', settled.dryRun, {}));
  };
  return {
    settle,
    setStreak: (value: FailureStreak | null) => (streak = value),
    alerts: () => [...stored.values()],
    jobs: () => [...jobs.values()],
  };
}

describe('AlertOnRunSettledHandler', () => {
  it('a failed run raises one alert, delivered on every configured channel', async () => {
    const scenario = world();
    scenario.setStreak({ count: 1, firstRunId: 'r1', runIds: ['r1'] });
    await scenario.settle(run('r1'));
    expect(scenario.alerts().map((alert) => alert.kind)).toEqual(['run_failed']);
    const [alert] = scenario.alerts();
    expect(scenario.jobs()).toEqual([
      { alertId: alert?.id, channel: 'webhook' },
      { alertId: alert?.id, channel: 'email' },
    ]);
  });

  it('a held run raises a held alert; successes, cancellations and dry runs raise nothing', async () => {
    const scenario = world({ channels: [['email', true]] });
    await scenario.settle(run('r1', { state: 'held', errorCode: null }));
    await scenario.settle(run('r2', { state: 'succeeded', errorCode: null }));
    await scenario.settle(run('r3', { state: 'cancelled' }));
    await scenario.settle(run('r4', { dryRun: true }));
    expect(scenario.alerts().map((alert) => [alert.kind, alert.runId])).toEqual([['run_held', 'r1']]);
    expect(scenario.jobs()).toHaveLength(1);
  });

  it('raises the streak alert once, at the threshold', async () => {
    const scenario = world();
    for (const [index, id] of ['r1', 'r2', 'r3', 'r4'].entries()) {
      scenario.setStreak({ count: index + 1, firstRunId: 'r1', runIds: ['r1', 'r2', 'r3', 'r4'].slice(0, index + 1) });
      await scenario.settle(run(id));
    }
    const streaks = scenario.alerts().filter((alert) => alert.kind === 'consecutive_failures');
    expect(streaks.map((alert) => [alert.runId, alert.alert.failures?.consecutive])).toEqual([['r3', 3]]);
    // A new streak (after a success) alerts again.
    scenario.setStreak({ count: 3, firstRunId: 'r7', runIds: ['r9', 'r8', 'r7'] });
    await scenario.settle(run('r9'));
    expect(scenario.alerts().filter((alert) => alert.kind === 'consecutive_failures')).toHaveLength(2);
  });

  it('an event seen twice sends nothing twice', async () => {
    const scenario = world();
    await scenario.settle(run('r1'));
    await scenario.settle(run('r1'));
    expect(scenario.alerts()).toHaveLength(1);
    expect(scenario.jobs()).toHaveLength(2);
  });

  it('does nothing when no channel is configured', async () => {
    const scenario = world({
      channels: [
        ['webhook', false],
        ['email', false],
      ],
    });
    await scenario.settle(run('r1'));
    expect(scenario.alerts()).toEqual([]);
  });
});
