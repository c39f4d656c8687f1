import { Clock } from '@app/ddd';
import { JobQueue } from '@app/queue';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { SyncRunNotFoundError, SyncRunStateConflictError } from '../../domain/sync-run.errors.js';
import type { SyncRun } from '../../domain/sync-run.js';
import { SyncRunRepository } from '../ports/sync-run.repository.js';
import { SyncRunBroadcaster } from '../services/sync-run.broadcaster.js';

export class ApproveSyncRunCommand extends Command<SyncRun> {
  constructor(
    readonly runId: string,
    /** The approving user; null from the CLI, whose operator the audit trail records by OS account. */
    readonly approvedBy: string | null,
  ) {
    super();
  }
}

/** A held run is applied as previewed (the approval also covers an id remap the preview showed). */
@CommandHandler(ApproveSyncRunCommand)
export class ApproveSyncRunHandler implements ICommandHandler<ApproveSyncRunCommand, SyncRun> {
  constructor(
    private readonly runs: SyncRunRepository,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    private readonly broadcaster: SyncRunBroadcaster,
  ) {}

  async execute({ runId, approvedBy }: ApproveSyncRunCommand): Promise<SyncRun> {
    const run = await this.runs.findById(runId);
    if (!run) throw new SyncRunNotFoundError(runId);
    const approved = await this.runs.approve(run.id, approvedBy, this.clock.now());
    if (!approved) throw new SyncRunStateConflictError('approved', run.state, 'Only a held run can be approved');
    await this.queue.enqueue('sis-sync.run', { runId: run.id }, { jobId: `sis-sync-run-${run.id}-approved` });
    this.broadcaster.stateChanged(approved);
    return approved;
  }
}
