import { JobQueue } from '@app/queue';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsRegistry } from './metrics-registry.js';

/** Queue depth read from the queue at scrape time, and job outcomes as this process reports them. */
@Injectable()
export class QueueMetricsCollector implements OnModuleInit {
  constructor(
    private readonly queue: JobQueue,
    private readonly metrics: MetricsRegistry,
  ) {}

  onModuleInit(): void {
    const queue = this.queue;
    new Gauge({
      name: 'jobs_queue_depth',
      help: 'Jobs in the queue by state (shared by every process on the same Redis)',
      labelNames: ['state'] as const,
      registers: [this.metrics.registry],
      async collect() {
        // An unreachable queue shows as missing series, and the rest of the scrape still answers.
        const counts = await queue.counts().catch(() => undefined);
        this.reset();
        if (!counts) return;
        for (const [state, value] of Object.entries(counts) as [string, number][]) this.set({ state }, value);
      },
    });
    queue.onOutcome((job, outcome, durationMs) => {
      this.metrics.jobsProcessed.inc({ job, outcome });
      this.metrics.jobDuration.observe({ job }, durationMs / 1000);
    });
  }
}
