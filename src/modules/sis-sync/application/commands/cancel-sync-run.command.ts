import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { SyncRunNotFoundError } from '../../domain/sync-run.errors.js';
import type { SyncRun } from '../../domain/sync-run.js';
import { SyncRunRepository } from '../ports/sync-run.repository.js';
import { SyncEngine } from '../services/sync-engine.js';

export class CancelSyncRunCommand extends Command<SyncRun> {
  constructor(readonly runId: string) {
    super();
  }
}

@CommandHandler(CancelSyncRunCommand)
export class CancelSyncRunHandler implements ICommandHandler<CancelSyncRunCommand, SyncRun> {
  constructor(
    private readonly runs: SyncRunRepository,
    private readonly engine: SyncEngine,
  ) {}

  async execute({ runId }: CancelSyncRunCommand): Promise<SyncRun> {
    const run = await this.runs.findById(runId);
    if (!run) throw new SyncRunNotFoundError(runId);
    return this.engine.cancel(run);
  }
}
