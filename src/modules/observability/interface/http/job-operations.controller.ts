import { AuditExempt } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { Controller, DefaultValuePipe, Get, HttpCode, Param, ParseIntPipe, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequireRoles } from '../../../identity/index.js';
import { RetryDeadLetterJobCommand } from '../../application/commands/retry-dead-letter-job.command.js';
import { GetQueueCountsQuery, ListDeadLetterJobsQuery } from '../../application/queries/job-operations.queries.js';

const QUEUE_COUNTS_SCHEMA = {
  type: 'object',
  required: ['backend', 'waiting', 'active', 'delayed', 'failed'],
  properties: {
    backend: { type: 'string', example: 'bullmq' },
    waiting: { type: 'integer', minimum: 0 },
    active: { type: 'integer', minimum: 0 },
    delayed: { type: 'integer', minimum: 0 },
    failed: { type: 'integer', minimum: 0, description: 'Dead-lettered' },
  },
};

const DEAD_LETTERS_SCHEMA = {
  type: 'object',
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name', 'payload', 'attemptsMade', 'failedReason', 'failedAt'],
        properties: {
          id: { type: 'string' },
          name: { type: 'string', example: 'sis-sync.run' },
          payload: { description: "The job's payload as it was queued" },
          attemptsMade: { type: 'integer', minimum: 0 },
          failedReason: { type: 'string' },
          failedAt: { type: 'string', format: 'date-time', nullable: true },
        },
      },
    },
  },
};

const RETRIED_SCHEMA = {
  type: 'object',
  required: ['jobId', 'state'],
  properties: { jobId: { type: 'string' }, state: { type: 'string', enum: ['waiting'] } },
};

@ApiTags('operations')
@ApiBearerAuth()
@RequireRoles('district_admin', 'sis_operator')
@AuditExempt('Queue operations: job names, ids and counts')
@Controller('ops/jobs')
export class JobOperationsController {
  constructor(
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
  ) {}

  @Get('counts')
  @ApiOperation({ summary: 'Jobs waiting, running, delayed for retry, and dead-lettered' })
  @ApiOkResponse({ schema: QUEUE_COUNTS_SCHEMA })
  @ApiProblems({ 503: ['QUEUE.UNAVAILABLE'] })
  counts() {
    return this.queries.execute(new GetQueueCountsQuery());
  }

  @Get('dead-letters')
  @ApiOperation({ summary: 'Jobs that used up their retries, newest first' })
  @ApiOkResponse({ schema: DEAD_LETTERS_SCHEMA })
  @ApiProblems({ 503: ['QUEUE.UNAVAILABLE'] })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } })
  async deadLetters(@Query('limit', new DefaultValuePipe(50), ParseIntPipe) limit: number) {
    const items = await this.queries.execute(new ListDeadLetterJobsQuery(Math.min(Math.max(limit, 1), 200)));
    return { items };
  }

  @Post('dead-letters/:id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Put a dead-lettered job back on the queue with fresh attempts' })
  @ApiResponse({ status: 202, schema: RETRIED_SCHEMA, description: 'Queued again' })
  @ApiProblems({ 404: ['OPS.JOB_NOT_FOUND'], 503: ['QUEUE.UNAVAILABLE'] })
  async retry(@Param('id') id: string): Promise<{ jobId: string; state: 'waiting' }> {
    await this.commands.execute(new RetryDeadLetterJobCommand(id));
    return { jobId: id, state: 'waiting' };
  }
}
