import type { JobPayload } from '@app/contracts';
import { JobHandler, type HandlesJob } from '@app/queue';
import { Injectable } from '@nestjs/common';
import { SyncEngine } from './services/sync-engine.js';

@Injectable()
@JobHandler('sis-sync.run')
export class RunSyncJob implements HandlesJob<JobPayload<'sis-sync.run'>> {
  constructor(private readonly engine: SyncEngine) {}

  async handle({ runId }: JobPayload<'sis-sync.run'>): Promise<void> {
    await this.engine.execute(runId);
  }
}
