import { AuditExempt } from '@app/audit-capture';
import { JobQueue } from '@app/queue';
import { MikroORM } from '@mikro-orm/core';
import { Controller, Get, Optional } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { Public } from '../../../identity/index.js';
import { RedisHealthConnection } from '../../infrastructure/redis-health.connection.js';

const CHECK_TIMEOUT_MS = 2_000;

@ApiTags('health')
@Public()
@SkipThrottle()
@AuditExempt('Health probes')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly orm: MikroORM,
    private readonly queue: JobQueue,
    @Optional() private readonly redis?: RedisHealthConnection,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up' })
  @ApiOkResponse({
    schema: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } },
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Database, Redis (when configured) and the queue answer' })
  ready() {
    const checks: HealthIndicatorFunction[] = [
      () =>
        this.indicators
          .check('database')
          .attempt(async () => {
            await this.orm.em.getConnection().execute('SELECT 1');
          })
          .withTimeout(CHECK_TIMEOUT_MS),
      () =>
        this.indicators
          .check('queue')
          .attempt(async () => {
            await this.queue.ping();
            return { backend: this.queue.backend };
          })
          .withTimeout(CHECK_TIMEOUT_MS),
    ];
    const redis: Redis | undefined = this.redis?.client;
    if (redis) {
      checks.push(() =>
        this.indicators
          .check('redis')
          .attempt(async () => {
            await redis.ping();
          })
          .withTimeout(CHECK_TIMEOUT_MS),
      );
    }
    return this.health.check(checks);
  }
}
