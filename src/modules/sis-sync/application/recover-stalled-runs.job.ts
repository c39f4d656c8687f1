import type { JobPayload } from '@app/contracts';
import { Clock } from '@app/ddd';
import { JobHandler, JobQueue, type HandlesJob } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { SyncRunRepository } from './ports/sync-run.repository.js';

/** A queued run waits at most this long for its job before the sweep queues it again. */
const QUEUED_GRACE_MS = 120_000;

/**
 * Runs whose worker died keep state `running` with a lease that stops being renewed; queued runs can lose
 * their job (an operator purged the queue, or it was dead-lettered). Both are queued again and resume from their
 * checkpoint; the job id dedupes so a live job is not doubled.
 */
@Injectable()
@JobHandler('sis-sync.recover-stalled-runs', { schedule: { cron: '* * * * *', payload: {} }, runOnStart: true })
export class RecoverStalledRunsJob implements HandlesJob<JobPayload<'sis-sync.recover-stalled-runs'>> {
  private readonly logger = new Logger('SisSync');

  constructor(
    private readonly runs: SyncRunRepository,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
  ) {}

  async handle(): Promise<void> {
    const now = this.clock.now();
    const stalled = await this.runs.findStalled(now, new Date(now.getTime() - QUEUED_GRACE_MS));
    for (const run of stalled) {
      await this.queue.enqueue(
        'sis-sync.run',
        { runId: run.id },
        { jobId: `sis-sync-run-${run.id}-${run.attempt}-recovered` },
      );
    }
    if (stalled.length > 0) this.logger.warn(`Re-queued ${stalled.length} stalled sync run(s)`);
  }
}
