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
}

/** Pushes run state changes, and progress at most twice a second per run, to the run's room and `sis-ops`. */
@Injectable()
export class SyncRunBroadcaster {
  private readonly lastProgressAt = new Map<string, number>();

  constructor(private readonly realtime: RealtimePublisher) {}

  stateChanged(run: SyncRun, counts: RunCounts = run.counts): void {
    if (run.state !== 'running') this.lastProgressAt.delete(run.id);
    const payload = {
      runId: run.id,
      connectionId: run.connectionId,
      state: run.state,
      dryRun: run.dryRun,
      issueCount: run.issueCount,
      counts: counts as Record<string, Record<string, number>>,
      errorCode: run.errorCode,
    };
    for (const room of [syncRunRoom(run.id), SIS_OPS_ROOM]) this.realtime.publish(room, 'sis-sync.run-state', payload);
  }

  progress(run: SyncRun, progress: SyncProgress, force = false): void {
    const now = Date.now();
    if (!force && now - (this.lastProgressAt.get(run.id) ?? 0) < PROGRESS_INTERVAL_MS) return;
    this.lastProgressAt.set(run.id, now);
    const payload = { runId: run.id, connectionId: run.connectionId, ...progress };
    for (const room of [syncRunRoom(run.id), SIS_OPS_ROOM])
      this.realtime.publish(room, 'sis-sync.run-progress', payload);
  }
}
