import { MetricsConfig } from '../../../config/index.js';
import { listeningUrl } from '@app/http';
import { JobQueue } from '@app/queue';
import { MikroORM } from '@mikro-orm/core';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MetricsRegistry } from './metrics-registry.js';

const CHECK_TIMEOUT_MS = 2_000;

/** Resolves 'up' or 'down' within the timeout, never throws. */
async function probe(check: () => Promise<unknown>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'down'>((resolve) => (timer = setTimeout(() => resolve('down'), CHECK_TIMEOUT_MS)));
  try {
    return await Promise.race([check().then(() => 'up' as const), timeout]);
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * Serves `/metrics` on its own port (METRICS_PORT), so the Prometheus endpoint is never exposed on the
 * public API port. Every role runs one, workers included. It also answers `/health/live` and `/health/ready`
 * (database and queue), the probes of a worker, which has no HTTP port of its own.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server: Server | undefined;

  constructor(
    private readonly config: MetricsConfig,
    private readonly metrics: MetricsRegistry,
    private readonly orm: MikroORM,
    private readonly queue: JobQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.enabled) return;
    const server = createServer((request, response) => {
      const path = request.url?.split('?')[0];
      if (request.method === 'GET' && path === '/health/live') {
        json(response, 200, { status: 'ok' });
        return;
      }
      if (request.method === 'GET' && path === '/health/ready') {
        void this.readiness().then(({ ok, checks }) =>
          json(response, ok ? 200 : 503, { status: ok ? 'ok' : 'error', checks }),
        );
        return;
      }
      if (request.method !== 'GET' || path !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      this.metrics.registry
        .metrics()
        .then((body) => response.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(body))
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'Collecting metrics failed');
          response.writeHead(500).end();
        });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => resolve());
    });
    this.server = server;
    const url = listeningUrl(this.config.host, this.port());
    this.logger.log(`Metrics on ${url}/metrics; health probes at ${url}/health/live and ${url}/health/ready`);
  }

  private async readiness(): Promise<{ ok: boolean; checks: { database: 'up' | 'down'; queue: 'up' | 'down' } }> {
    const [database, queue] = await Promise.all([
      probe(() => this.orm.em.getConnection().execute('SELECT 1')),
      probe(() => this.queue.ping()),
    ]);
    return { ok: database === 'up' && queue === 'up', checks: { database, queue } };
  }

  /** The bound port (differs from METRICS_PORT when that is 0). */
  port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
