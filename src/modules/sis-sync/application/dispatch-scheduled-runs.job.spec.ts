import { Clock } from '@app/ddd';
import type { CommandBus } from '@nestjs/cqrs';
import { describe, expect, it } from 'vitest';
import { csvImportConnectionSettings } from '../domain/connection-defaults.js';
import type { SisConnection } from '../domain/sis-connection.js';
import { StartSyncRunCommand } from './commands/start-sync-run.command.js';
import { DispatchScheduledRunsJob } from './dispatch-scheduled-runs.job.js';
import type { SisConnectionRepository } from './ports/sis-connection.repository.js';
import type { SyncRunRepository } from './ports/sync-run.repository.js';

const NOW = new Date('2026-12-08T09:00:30Z');

class FixedClock extends Clock {
  now(): Date {
    return NOW;
  }
}

function scheduled(id: string, provider: SisConnection['provider']): SisConnection {
  return {
    id,
    name: id,
    provider,
    // Every minute: a tick is always due. (A CSV connection with a schedule exists only by hand-editing the row.)
    settings: { ...csvImportConnectionSettings(), schedule: { cron: '* * * * *', timeZone: 'UTC' } },
    hasSecret: false,
    enabled: true,
    createdAt: new Date('2026-12-01T00:00:00Z'),
    updatedAt: new Date('2026-12-01T00:00:00Z'),
  };
}

describe('DispatchScheduledRunsJob', () => {
  it('never dispatches a CSV connection (its runs are uploads), and still dispatches the others', async () => {
    const connections = [scheduled('csv-feed', 'oneroster-csv'), scheduled('rest-sis', 'oneroster')];
    const started: string[] = [];
    const job = new DispatchScheduledRunsJob(
      { list: () => Promise.resolve(connections) } as unknown as SisConnectionRepository,
      { lastSuccessful: () => Promise.resolve(null) } as unknown as SyncRunRepository,
      { claim: () => Promise.resolve(true) },
      {
        execute: (command: unknown) => {
          if (command instanceof StartSyncRunCommand) started.push(command.connectionId);
          return Promise.resolve();
        },
      } as unknown as CommandBus,
      new FixedClock(),
    );
    await job.handle();
    expect(started).toEqual(['rest-sis']);
  });
});
