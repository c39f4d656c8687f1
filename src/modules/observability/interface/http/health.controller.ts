import { AuditExempt } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { JobQueue } from '@app/queue';
import { MikroORM } from '@mikro-orm/core';
import { Controller, Get, Optional, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { Public } from '../../../identity/index.js';
import { NotReadyError, type DependencyStatus } from '../../domain/observability.errors.js';
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
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({ summary: 'Database, Redis (when configured) and the queue answer' })
  @ApiOkResponse({
    schema: {
      type: 'object',
      required: ['status'],
      properties: {
        status: { type: 'string', enum: ['ok'] },
        info: { type: 'object', additionalProperties: { type: 'object' } },
        error: { type: 'object', additionalProperties: { type: 'object' } },
        details: { type: 'object', additionalProperties: { type: 'object' } },
      },
    },
  })
  @ApiProblems({ 503: ['HEALTH.NOT_READY'] })
  async ready(): Promise<HealthCheckResult> {
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
    try {
      return await this.health.check(checks);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const { details } = error.getResponse() as HealthCheckResult;
      const statuses: Record<string, DependencyStatus> = {};
      for (const [name, detail] of Object.entries(details)) statuses[name] = detail.status === 'up' ? 'up' : 'down';
      throw new NotReadyError(statuses);
    }
  }
}
