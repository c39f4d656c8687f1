import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus registry (one per app instance, not prom-client's global one, so several apps
 * in one process never collide) with the platform's own metrics. Labels are bounded: route templates,
 * never raw paths or ids.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly websocketConnections = new Gauge({
    name: 'websocket_connections',
    help: 'Open socket.io connections on this process',
    registers: [this.registry],
  });

  readonly jobsProcessed = new Counter({
    name: 'jobs_processed_total',
    help: 'Jobs run by this process, by job name and outcome',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'job_duration_seconds',
    help: 'Job run time by job name',
    labelNames: ['job'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // prom-client names three gauges `nodejs_active_*_total`, which `promtool check metrics` refuses (only
    // counters end in `_total`). Their per-type siblings (`nodejs_active_handles{type}`, …) stay: sum() them.
    // (prom-client's typings declare `type` a numeric enum; at run time it is the exposition's type name.)
    for (const { name, type } of this.registry.getMetricsAsArray()) {
      if (name.endsWith('_total') && String(type) !== 'counter') this.registry.removeSingleMetric(name);
    }
  }
}
