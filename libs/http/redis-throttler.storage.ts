import { Logger } from '@nestjs/common';
import { ThrottlerStorageService, type ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';

/**
 * Fixed-window counter with an optional block, in one atomic script, so a per-IP limit holds across every
 * API process sharing the Redis server. Returns [hits, msToExpire, blocked, msToBlockExpire].
 */
const INCREMENT_SCRIPT = `
local hitsKey = KEYS[1]
local blockKey = KEYS[2]
local ttl = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local blockDuration = tonumber(ARGV[3])
local blockTtl = redis.call('PTTL', blockKey)
if blockTtl > 0 then
  local hits = tonumber(redis.call('GET', hitsKey) or '0')
  return {hits, redis.call('PTTL', hitsKey), 1, blockTtl}
end
local hits = redis.call('INCR', hitsKey)
if hits == 1 then redis.call('PEXPIRE', hitsKey, ttl) end
local hitsTtl = redis.call('PTTL', hitsKey)
if hits > limit then
  redis.call('SET', blockKey, '1', 'PX', blockDuration)
  return {hits, hitsTtl, 1, blockDuration}
end
return {hits, hitsTtl, 0, 0}
`;

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Shared counters in Redis. While Redis is unreachable each process counts on its own (the limits still hold
 * per process) instead of failing every request: a rate limit must not turn a Redis outage into an API outage.
 * Give it a client with `enableOfflineQueue: false`, so a request never waits for Redis to come back.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger('RateLimits');
  private readonly local = new ThrottlerStorageService();
  private degraded = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    redis.on('error', () => undefined);
    redis.on('ready', () => {
      if (this.degraded) this.logger.log('Redis is back: rate limits are shared again');
      this.degraded = false;
    });
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    if (this.redis.status !== 'ready') return this.countLocally(key, ttl, limit, blockDuration, throttlerName);
    try {
      return await this.countInRedis(key, ttl, limit, blockDuration, throttlerName);
    } catch (error) {
      this.logger.warn({ err: error }, 'Rate-limit counter in Redis failed; counting in this process');
      return this.countLocally(key, ttl, limit, blockDuration, throttlerName);
    }
  }

  private countLocally(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    if (!this.degraded) {
      this.degraded = true;
      this.logger.warn('Redis is unavailable: rate limits are counted per process until it is back');
    }
    return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  private async countInRedis(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const base = `${this.prefix}:throttle:${throttlerName}:${key}`;
    const [hits, msToExpire, blocked, msToBlockExpire] = (await this.redis.eval(
      INCREMENT_SCRIPT,
      2,
      `${base}:hits`,
      `${base}:block`,
      ttl,
      limit,
      blockDuration > 0 ? blockDuration : ttl,
    )) as [number, number, number, number];
    return {
      totalHits: hits,
      timeToExpire: Math.max(0, Math.ceil(msToExpire / 1000)),
      isBlocked: blocked === 1,
      timeToBlockExpire: Math.max(0, Math.ceil(msToBlockExpire / 1000)),
    };
  }
}
