import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from '../../observability/index.js';
import { SyncMetrics } from '../application/ports/sync-metrics.port.js';
import type { SyncRunState } from '../domain/sync-run.js';

/**
 * Sync events as this process counts them, on the process registry. Labels stay bounded: providers, outcomes,
 * entities, status codes. The state operators alert on (last success, held and stalled runs) is read from the
 * database at scrape time instead (`GetSyncOperationsStatusQuery`), so every process reports it.
 */
@Injectable()
export class PrometheusSyncMetrics extends SyncMetrics {
  private readonly runs: Counter<'provider' | 'outcome'>;
  private readonly runDuration: Histogram<'provider'>;
  private readonly records: Counter<'entity' | 'action'>;
  private readonly requests: Counter<'provider' | 'status'>;
  private readonly retries: Counter<'provider'>;

  constructor(metrics: MetricsRegistry) {
    super();
    const registers = [metrics.registry];
    this.runs = new Counter({
      name: 'sis_sync_runs_total',
      help: 'Settled SIS sync runs by provider and outcome',
      labelNames: ['provider', 'outcome'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'sis_sync_run_duration_seconds',
      help: 'Wall time of settled SIS sync runs, from start to settlement',
      labelNames: ['provider'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200],
      registers,
    });
    this.records = new Counter({
      name: 'sis_sync_records_total',
      help: 'Roster records written by sync runs, by entity and action',
      labelNames: ['entity', 'action'],
      registers,
    });
    this.requests = new Counter({
      name: 'sis_http_requests_total',
      help: 'HTTP requests to SIS APIs by provider and status (error = no response)',
      labelNames: ['provider', 'status'],
      registers,
    });
    this.retries = new Counter({
      name: 'sis_http_retries_total',
      help: 'SIS API requests that were retried, by provider',
      labelNames: ['provider'],
      registers,
    });
  }

  runSettled(provider: string, outcome: SyncRunState, durationSeconds: number): void {
    this.runs.inc({ provider, outcome });
    this.runDuration.observe({ provider }, durationSeconds);
  }

  recordsApplied(entity: string, action: string, count: number): void {
    this.records.inc({ entity, action }, count);
  }

  sisRequest(provider: string, status: number | 'error', retry: boolean): void {
    this.requests.inc({ provider, status: String(status) });
    if (retry) this.retries.inc({ provider });
  }
}
