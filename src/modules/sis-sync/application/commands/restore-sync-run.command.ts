import { RosterRecordsChangedV1 } from '@app/contracts';
import { Clock } from '@app/ddd';
import { TransactionRunner } from '@app/persistence';
import { Command, CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { RosterMirror, type RestoreConflict, type RestoreResult } from '../../../roster/index.js';
import { SyncRunNotFoundError, SyncRunStateConflictError } from '../../domain/sync-run.errors.js';
import type { SyncRun } from '../../domain/sync-run.js';
import { SyncRunRepository } from '../ports/sync-run.repository.js';

/** Conflicts listed in the response and stored on the run; the counts always cover all of them. */
const LISTED_CONFLICTS = 500;

export interface RestoreSummary {
  undeleteOnly: boolean;
  counts: RestoreResult['counts'];
  conflictCount: number;
  conflicts: RestoreConflict[];
}

export class RestoreSyncRunCommand extends Command<{ run: SyncRun; summary: RestoreSummary }> {
  constructor(
    readonly runId: string,
    readonly restoredBy: string | null,
    readonly undeleteOnly: boolean,
  ) {
    super();
  }
}

/**
 * Reverts what a finished run changed, from its before-images, in one transaction while no other run of the
 * connection may start. Records a later run changed are left alone and reported as conflicts.
 */
@CommandHandler(RestoreSyncRunCommand)
export class RestoreSyncRunHandler implements ICommandHandler<RestoreSyncRunCommand> {
  constructor(
    private readonly runs: SyncRunRepository,
    private readonly mirror: RosterMirror,
    private readonly transactions: TransactionRunner,
    private readonly clock: Clock,
    private readonly events: EventBus,
  ) {}

  async execute({ runId, restoredBy, undeleteOnly }: RestoreSyncRunCommand) {
    const run = await this.runs.findById(runId);
    if (!run) throw new SyncRunNotFoundError(runId);
    if (run.state !== 'succeeded' && run.state !== 'succeeded_with_issues') {
      throw new SyncRunStateConflictError('restored', run.state, 'Only a run that applied its changes can be restored');
    }
    if (run.dryRun) throw new SyncRunStateConflictError('restored', run.state, 'A dry run changed nothing');
    if (run.restoredAt) throw new SyncRunStateConflictError('restored', run.state, 'This run was already restored');

    const { restored, result } = await this.transactions.run(async () => {
      await this.runs.lockConnectionIdle(run.connectionId);
      const outcome = await this.mirror.restoreRun(
        { changeSetId: run.id, connectionId: run.connectionId },
        { undeleteOnly },
      );
      const summary: RestoreSummary = {
        undeleteOnly,
        counts: outcome.counts,
        conflictCount: outcome.conflicts.length,
        conflicts: outcome.conflicts.slice(0, LISTED_CONFLICTS),
      };
      const marked = await this.runs.markRestored(run.id, restoredBy, summary, this.clock.now());
      if (!marked) throw new SyncRunStateConflictError('restored', run.state, 'This run was already restored');
      return { restored: { run: marked, summary }, result: outcome };
    });
    for (const [entity, ids] of Object.entries(result.changed)) {
      if (ids.length > 0) {
        this.events.publish(new RosterRecordsChangedV1(run.connectionId, run.id, entity as never, [], ids, [], []));
      }
    }
    return restored;
  }
}
