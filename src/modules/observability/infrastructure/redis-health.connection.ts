import type { OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';

/** A small dedicated Redis connection for the readiness check. */
export class RedisHealthConnection implements OnApplicationShutdown {
  readonly client: Redis;

  constructor(url: string) {
    this.client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    this.client.on('error', () => undefined);
    void this.client.connect().catch(() => undefined);
  }

  onApplicationShutdown(): void {
    this.client.disconnect();
  }
}
