import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

export function testRedisUrl(): string {
  return process.env['REDIS_URL_TEST'] || DEFAULT_TEST_REDIS_URL;
}

/** A key prefix of its own per test, so parallel suites never see each other's queues or rooms. */
export function uniqueRedisPrefix(label = 'test'): string {
  return `homeroom-test-${label}-${randomBytes(4).toString('hex')}`;
}

export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
