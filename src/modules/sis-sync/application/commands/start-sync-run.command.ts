import { Clock } from '@app/ddd';
import { JobQueue, QueueUnavailableError } from '@app/queue';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { ConnectionNotFoundError } from '../../domain/sis-sync.errors.js';
import {
  ConnectionDisabledError,
  CsvConnectionNeedsUploadError,
  NotACsvConnectionError,
} from '../../domain/sync-run.errors.js';
import type { SyncMode, SyncRun, SyncTrigger } from '../../domain/sync-run.js';
import { SisConnectionRepository } from '../ports/sis-connection.repository.js';
import { SyncRunRepository } from '../ports/sync-run.repository.js';
import { SyncRunBroadcaster } from '../services/sync-run.broadcaster.js';

export interface StartSyncRunProps {
  connectionId: string;
  mode: SyncMode;
  dryRun: boolean;
  trigger: SyncTrigger;
  /** The requesting user; null for the scheduler and the CLI. */
  requestedBy: string | null;
  /** The stored upload a CSV connection's run reads (required for one, refused for any other). Default: none. */
  importFile?: string | null;
  /** Let SIS values replace sticky local edits (and clear them) in this run. Default: false. */
  remaster?: boolean;
  /** An import's file as it was uploaded (already sanitised), for the run's source. Default: none. */
  importFileName?: string | null;
}

export class StartSyncRunCommand extends Command<SyncRun> {
  readonly connectionId: string;
  readonly mode: SyncMode;
  readonly dryRun: boolean;
  readonly trigger: SyncTrigger;
  readonly requestedBy: string | null;
  readonly importFile: string | null;
  readonly remaster: boolean;
  readonly importFileName: string | null;

  constructor(props: StartSyncRunProps) {
    super();
    this.connectionId = props.connectionId;
    this.mode = props.mode;
    this.dryRun = props.dryRun;
    this.trigger = props.trigger;
    this.requestedBy = props.requestedBy;
    this.importFile = props.importFile ?? null;
    this.remaster = props.remaster ?? false;
    this.importFileName = props.importFileName ?? null;
  }
}

/**
 * Records a queued run (at most one active per connection) and hands it to the job queue. A CSV connection runs
 * only with an uploaded file, and an uploaded file only into a CSV connection.
 */
@CommandHandler(StartSyncRunCommand)
export class StartSyncRunHandler implements ICommandHandler<StartSyncRunCommand, SyncRun> {
  constructor(
    private readonly connections: SisConnectionRepository,
    private readonly runs: SyncRunRepository,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
    private readonly broadcaster: SyncRunBroadcaster,
  ) {}

  async execute(command: StartSyncRunCommand): Promise<SyncRun> {
    const connection = await this.connections.findById(command.connectionId);
    if (!connection) throw new ConnectionNotFoundError(command.connectionId);
    if (!connection.enabled) throw new ConnectionDisabledError(connection.id);
    // Up front, so no run is recorded that could only fail (and count toward the connection's failure streak).
    const csv = connection.provider === 'oneroster-csv';
    if (csv && command.importFile === null) throw new CsvConnectionNeedsUploadError(connection.id);
    if (!csv && command.importFile !== null) throw new NotACsvConnectionError(connection.id, connection.provider);
    const run = await this.runs.create({
      id: randomUUID(),
      connectionId: connection.id,
      mode: command.mode,
      dryRun: command.dryRun,
      trigger: command.trigger,
      requestedBy: command.requestedBy,
      importFile: command.importFile,
      importFileName: command.importFileName,
      remaster: command.remaster,
      createdAt: this.clock.now(),
    });
    // If this process dies before the enqueue, the stalled-run sweep queues the run.
    try {
      await this.queue.enqueue('sis-sync.run', { runId: run.id }, { jobId: `sis-sync-run-${run.id}-0` });
    } catch (error) {
      // Refused, so not left queued: it would block the caller's retry as "already active", then start later anyway.
      if (error instanceof QueueUnavailableError) await this.runs.requestCancel(run.id, this.clock.now());
      throw error;
    }
    this.broadcaster.stateChanged(run);
    return run;
  }
}
