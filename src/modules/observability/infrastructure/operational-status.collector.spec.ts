import {
  GetAuditIntegrityStatusQuery,
  GetSyncOperationsStatusQuery,
  jobDefinitions,
  type AuditIntegrityStatus,
  type SyncOperationsStatus,
} from '@app/contracts';
import { InMemoryJobQueue } from '@app/testing';
import type { QueryBus } from '@nestjs/cqrs';
import { describe, expect, it } from 'vitest';
import type { MetricsConfig } from '../../../config/index.js';
import { MetricsRegistry } from './metrics-registry.js';
import { OperationalStatusCollector } from './operational-status.collector.js';

const SYNC: SyncOperationsStatus = {
  connections: [{ connectionId: 'c1', lastSuccessAt: new Date('2026-12-01T06:00:00Z'), consecutiveFailures: 2 }],
  activeRuns: {
    queued: { count: 0, oldestSince: null },
    running: { count: 1, oldestSince: new Date('2026-12-02T00:00:00Z') },
    held: { count: 0, oldestSince: null },
  },
  stalledRuns: 0,
};
const AUDIT: AuditIntegrityStatus = {
  lastCheckpointAt: null,
  lastVerification: { at: new Date('2026-12-03T03:30:00Z'), ok: false, toSeq: 10 },
  lastSuccessfulVerificationAt: new Date('2026-12-02T03:30:00Z'),
};

/** Answers the two status queries (a stand-in for the owning modules' handlers) and counts the reads. */
class CountingQueryBus {
  reads = 0;
  failAudit = false;

  execute(query: unknown): Promise<unknown> {
    this.reads += 1;
    if (query instanceof GetSyncOperationsStatusQuery) return Promise.resolve(SYNC);
    if (query instanceof GetAuditIntegrityStatusQuery) {
      return this.failAudit ? Promise.reject(new Error('database away')) : Promise.resolve(AUDIT);
    }
    return Promise.reject(new Error('unexpected query'));
  }
}

function collector(cacheSeconds: number) {
  const queries = new CountingQueryBus();
  const metrics = new MetricsRegistry();
  const config: MetricsConfig = { enabled: true, host: '127.0.0.1', port: 0, statusCacheSeconds: cacheSeconds };
  new OperationalStatusCollector(
    queries as unknown as QueryBus,
    new InMemoryJobQueue(jobDefinitions),
    metrics,
    config,
  ).onModuleInit();
  return { queries, scrape: () => metrics.registry.metrics() };
}

describe('operational status on /metrics', () => {
  it('reads each source once per scrape, and once for every scrape within the cache time', async () => {
    const { queries, scrape } = collector(10);
    const scrapes = await Promise.all(Array.from({ length: 20 }, () => scrape()));
    await scrape();
    expect(queries.reads).toBe(2);
    const text = scrapes[0];
    expect(text).toContain('homeroom_sis_connection_last_success_timestamp_seconds{connection="c1"} 1796104800');
    expect(text).toContain('homeroom_sis_connection_consecutive_failures{connection="c1"} 2');
    expect(text).toContain('homeroom_sis_runs{state="running"} 1');
    expect(text).toContain('homeroom_sis_oldest_run_timestamp_seconds{state="running"} 1796169600');
    expect(text).not.toContain('homeroom_sis_oldest_run_timestamp_seconds{state="held"}');
    expect(text).toContain('homeroom_audit_last_verification_success 0');
    expect(text).toContain('homeroom_jobs_dead_letters 0');
    // No checkpoint yet: no age at all, rather than an age of 0 that would read as fresh.
    expect(text).not.toMatch(/^homeroom_audit_checkpoint_age_seconds /m);
  });

  it('reads again once the cache time has passed (0: every scrape)', async () => {
    const { queries, scrape } = collector(0);
    await scrape();
    await scrape();
    expect(queries.reads).toBe(4);
  });

  it('drops the series of a source it cannot read and says so, keeping the others', async () => {
    const { queries, scrape } = collector(0);
    expect(await scrape()).toContain('homeroom_audit_last_verification_success 0');
    queries.failAudit = true;
    const text = await scrape();
    expect(text).not.toMatch(/^homeroom_audit_last_verification_success /m);
    expect(text).toContain('homeroom_status_source_up{source="audit"} 0');
    expect(text).toContain('homeroom_status_source_up{source="sis_sync"} 1');
    expect(text).toContain('homeroom_sis_runs{state="running"} 1');
  });
});
