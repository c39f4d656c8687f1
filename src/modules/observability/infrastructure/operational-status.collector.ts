import {
  ACTIVE_SYNC_RUN_STATES,
  GetAuditIntegrityStatusQuery,
  GetSyncOperationsStatusQuery,
  type AuditIntegrityStatus,
  type SyncOperationsStatus,
} from '@app/contracts';
import { JobQueue } from '@app/queue';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { Gauge } from 'prom-client';
import { MetricsConfig } from '../../../config/index.js';
import { MetricsRegistry } from './metrics-registry.js';

const SOURCES = ['sis_sync', 'audit', 'queue'] as const;
type Source = (typeof SOURCES)[number];

interface Snapshot {
  sync: SyncOperationsStatus | null;
  audit: AuditIntegrityStatus | null;
  deadLetters: number | null;
}

const seconds = (at: Date): number => at.getTime() / 1000;

/**
 * The state operators alert on, read at scrape time from where it is kept (the database through the owning
 * modules' public queries, the queue through its port), so every process (API, worker, after a restart) reports
 * the same truth. One read serves every gauge of a scrape and every scrape within METRICS_STATUS_CACHE_SECONDS.
 * A source that cannot be read drops its series (rather than report stale ones) and sets its `_up` to 0.
 */
@Injectable()
export class OperationalStatusCollector implements OnModuleInit {
  private readonly logger = new Logger('Metrics');
  private current: { startedAt: number; settled: boolean; snapshot: Promise<Snapshot> } | undefined;

  constructor(
    private readonly queries: QueryBus,
    private readonly queue: JobQueue,
    private readonly metrics: MetricsRegistry,
    private readonly config: MetricsConfig,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const read = (): Promise<Snapshot> => this.snapshot();
    new Gauge({
      name: 'homeroom_status_source_up',
      help: 'Whether the last read of operational state from each source succeeded (1) or failed (0)',
      labelNames: ['source'] as const,
      registers,
      async collect() {
        const snapshot = await read();
        for (const source of SOURCES) this.set({ source }, isUp(snapshot, source) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'homeroom_sis_connection_last_success_timestamp_seconds',
      help: 'When the last successful (non-dry) sync run of each SIS connection finished (Unix seconds)',
      labelNames: ['connection'] as const,
      registers,
      async collect() {
        const { sync } = await read();
        this.reset();
        for (const connection of sync?.connections ?? []) {
          if (connection.lastSuccessAt)
            this.set({ connection: connection.connectionId }, seconds(connection.lastSuccessAt));
        }
      },
    });
    new Gauge({
      name: 'homeroom_sis_connection_consecutive_failures',
      help: 'Failed (non-dry) sync runs of each SIS connection since its last success',
      labelNames: ['connection'] as const,
      registers,
      async collect() {
        const { sync } = await read();
        this.reset();
        for (const connection of sync?.connections ?? []) {
          this.set({ connection: connection.connectionId }, connection.consecutiveFailures);
        }
      },
    });
    new Gauge({
      name: 'homeroom_sis_runs',
      help: 'Active SIS sync runs by state (queued, running, held for review)',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const { sync } = await read();
        this.reset();
        if (!sync) return;
        for (const state of ACTIVE_SYNC_RUN_STATES) this.set({ state }, sync.activeRuns[state].count);
      },
    });
    new Gauge({
      name: 'homeroom_sis_oldest_run_timestamp_seconds',
      help: 'Since when the oldest active run of each state has been in it (held: since it was held; Unix seconds)',
      labelNames: ['state'] as const,
      registers,
      async collect() {
        const { sync } = await read();
        this.reset();
        for (const state of ACTIVE_SYNC_RUN_STATES) {
          const since = sync?.activeRuns[state].oldestSince;
          if (since) this.set({ state }, seconds(since));
        }
      },
    });
    new Gauge({
      name: 'homeroom_sis_runs_stalled',
      help: 'Running sync runs whose lease expired (their worker died or hangs)',
      registers,
      async collect() {
        const { sync } = await read();
        if (sync) this.set(sync.stalledRuns);
        else this.remove();
      },
    });
    new Gauge({
      name: 'homeroom_audit_checkpoint_age_seconds',
      help: 'Seconds since the newest signed checkpoint of the audit chain was signed',
      registers,
      async collect() {
        const at = (await read()).audit?.lastCheckpointAt;
        if (at) this.set(Math.max(0, (Date.now() - at.getTime()) / 1000));
        else this.remove();
      },
    });
    new Gauge({
      name: 'homeroom_audit_last_verification_timestamp_seconds',
      help: 'When the audit chain was last verified, whatever the result (Unix seconds)',
      registers,
      async collect() {
        const last = (await read()).audit?.lastVerification;
        if (last) this.set(seconds(last.at));
        else this.remove();
      },
    });
    new Gauge({
      name: 'homeroom_audit_last_verification_success',
      help: 'Whether the last verification of the audit chain passed (1) or found a problem (0)',
      registers,
      async collect() {
        const last = (await read()).audit?.lastVerification;
        if (last) this.set(last.ok ? 1 : 0);
        else this.remove();
      },
    });
    new Gauge({
      name: 'homeroom_audit_last_successful_verification_timestamp_seconds',
      help: 'When a verification of the audit chain last passed (Unix seconds)',
      registers,
      async collect() {
        const at = (await read()).audit?.lastSuccessfulVerificationAt;
        if (at) this.set(seconds(at));
        else this.remove();
      },
    });
    new Gauge({
      name: 'homeroom_jobs_dead_letters',
      help: 'Jobs that used up their attempts and wait for an operator (shared by every process on the same queue)',
      registers,
      async collect() {
        const count = (await read()).deadLetters;
        if (count === null) this.remove();
        else this.set(count);
      },
    });
  }

  /** The in-flight read, or the last one while it is fresh; otherwise a new one. */
  private snapshot(): Promise<Snapshot> {
    const now = Date.now();
    const current = this.current;
    if (current && (!current.settled || now - current.startedAt < this.config.statusCacheSeconds * 1000)) {
      return current.snapshot;
    }
    const next = { startedAt: now, settled: false, snapshot: this.read() };
    void next.snapshot.finally(() => (next.settled = true));
    this.current = next;
    return next.snapshot;
  }

  private async read(): Promise<Snapshot> {
    const [sync, audit, counts] = await Promise.allSettled([
      this.queries.execute(new GetSyncOperationsStatusQuery()),
      this.queries.execute(new GetAuditIntegrityStatusQuery()),
      this.queue.counts(),
    ]);
    return {
      sync: this.valueOf('sis_sync', sync),
      audit: this.valueOf('audit', audit),
      deadLetters: this.valueOf('queue', counts)?.failed ?? null,
    };
  }

  private valueOf<T>(source: Source, result: PromiseSettledResult<T>): T | null {
    if (result.status === 'fulfilled') return result.value;
    this.logger.warn({ err: result.reason as unknown }, `Could not read the ${source} state for /metrics`);
    return null;
  }
}

function isUp(snapshot: Snapshot, source: Source): boolean {
  switch (source) {
    case 'sis_sync':
      return snapshot.sync !== null;
    case 'audit':
      return snapshot.audit !== null;
    case 'queue':
      return snapshot.deadLetters !== null;
  }
}
