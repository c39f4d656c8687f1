import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from '../../observability/index.js';
import { AuditMetrics } from '../application/ports/audit-metrics.port.js';
import type { AuditEntry } from '../domain/audit-entry.js';

/**
 * Audit events as this process counts them, on the process registry. Labels stay bounded: actions are
 * route-level constants, outcomes three. The state operators alert on (checkpoint age, last verification) is
 * read from the database at scrape time instead (`GetAuditIntegrityStatusQuery`), so every process reports it.
 */
@Injectable()
export class PrometheusAuditMetrics extends AuditMetrics {
  private readonly events: Counter<'action' | 'outcome'>;
  private readonly appendLatency: Histogram;
  private readonly appendFailures: Counter;
  private readonly checkpointsSigned: Counter;
  private readonly verificationFailures: Counter;
  private readonly projectionFailures: Counter<'projection'>;

  constructor(metrics: MetricsRegistry) {
    super();
    const registers = [metrics.registry];
    this.events = new Counter({
      name: 'audit_events_total',
      help: 'Audit entries appended, by action and outcome',
      labelNames: ['action', 'outcome'],
      registers,
    });
    this.appendLatency = new Histogram({
      name: 'audit_append_duration_seconds',
      help: 'Time to commit a group of audit entries to the chain',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.appendFailures = new Counter({
      name: 'audit_append_failures_total',
      help: 'Audit entries that could not be stored (refused calls, or unaudited ones when failing open)',
      registers,
    });
    this.verificationFailures = new Counter({
      name: 'audit_verification_failures_total',
      help: 'Verifications of the audit chain that found a problem',
      registers,
    });
    this.projectionFailures = new Counter({
      name: 'audit_projection_failures_total',
      help: 'Audit entries a read model could not apply and skipped (rebuild the read models to retry them)',
      labelNames: ['projection'],
      registers,
    });
    this.checkpointsSigned = new Counter({
      name: 'audit_checkpoints_signed_total',
      help: 'Checkpoints of the audit chain this process signed',
      registers,
    });
  }

  appended(entries: readonly AuditEntry[], seconds: number): void {
    for (const entry of entries) this.events.inc({ action: entry.action, outcome: entry.outcome });
    this.appendLatency.observe(seconds);
  }

  appendFailed(entries: number): void {
    this.appendFailures.inc(entries);
  }

  verified(result: { ok: boolean; at: Date }): void {
    if (!result.ok) this.verificationFailures.inc();
  }

  projectionFailed(projection: string): void {
    this.projectionFailures.inc({ projection });
  }

  checkpointSigned(): void {
    this.checkpointsSigned.inc();
  }
}
