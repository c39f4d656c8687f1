import type { RealtimeEventPayload } from '@app/contracts';
import { Clock } from '@app/ddd';
import { Injectable } from '@nestjs/common';
import { RealtimePublisher } from '../../../realtime/index.js';
import type { RunCounts, SyncRun } from '../../domain/sync-run.js';

export const SIS_OPS_ROOM = 'sis-ops';
export const syncRunRoom = (runId: string): string => `sync-run:${runId}`;

const PROGRESS_INTERVAL_MS = 500;

export interface SyncProgress {
  phase: 'pull' | 'review' | 'apply' | 'deactivate';
  entity: string;
  processed: number;
  /** How many `processed` will reach in this phase, when known. */
  total: number | null;
}

/** The `sis-sync.run-state` payload of a run as it is now. */
export function runStatePayload(
  run: SyncRun,
  at: Date,
  counts: RunCounts = run.counts,
): RealtimeEventPayload<'sis-sync.run-state'> {
  return {
    runId: run.id,
    connectionId: run.connectionId,
    state: run.state,
    dryRun: run.dryRun,
    issueCount: run.issueCount,
    counts: counts as Record<string, Record<string, number>>,
    errorCode: run.errorCode,
    at: at.toISOString(),
  };
}

/**
 * Pushes run state changes, and progress at most twice a second per run (and whenever an entity's phase reaches its
 * total), to the run's room and `sis-ops` in one publish, so a socket in both rooms hears each event once.
 */
@Injectable()
export class SyncRunBroadcaster {
  private readonly lastProgressAt = new Map<string, number>();

  constructor(
    private readonly realtime: RealtimePublisher,
    private readonly clock: Clock,
  ) {}

  stateChanged(run: SyncRun, counts: RunCounts = run.counts): void {
    if (run.state !== 'running') this.lastProgressAt.delete(run.id);
    const payload = runStatePayload(run, this.clock.now(), counts);
    this.realtime.publish([syncRunRoom(run.id), SIS_OPS_ROOM], 'sis-sync.run-state', payload);
  }

  progress(run: SyncRun, progress: SyncProgress, force = false): void {
    const now = this.clock.now();
    const done = progress.total !== null && progress.processed >= progress.total;
    if (!force && !done && now.getTime() - (this.lastProgressAt.get(run.id) ?? 0) < PROGRESS_INTERVAL_MS) return;
    this.lastProgressAt.set(run.id, now.getTime());
    const payload = { runId: run.id, connectionId: run.connectionId, ...progress, at: now.toISOString() };
    this.realtime.publish([syncRunRoom(run.id), SIS_OPS_ROOM], 'sis-sync.run-progress', payload);
  }
}
