import { AuditExempt } from '@app/audit-capture';
import { Controller, DefaultValuePipe, Get, HttpCode, Param, ParseIntPipe, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RequireRoles } from '../../../identity/index.js';
import { RetryDeadLetterJobCommand } from '../../application/commands/retry-dead-letter-job.command.js';
import { GetQueueCountsQuery, ListDeadLetterJobsQuery } from '../../application/queries/job-operations.queries.js';

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
  counts() {
    return this.queries.execute(new GetQueueCountsQuery());
  }

  @Get('dead-letters')
  @ApiOperation({ summary: 'Jobs that used up their retries, newest first' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } })
  async deadLetters(@Query('limit', new DefaultValuePipe(50), ParseIntPipe) limit: number) {
    const items = await this.queries.execute(new ListDeadLetterJobsQuery(Math.min(Math.max(limit, 1), 200)));
    return { items };
  }

  @Post('dead-letters/:id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Put a dead-lettered job back on the queue with fresh attempts' })
  async retry(@Param('id') id: string): Promise<{ jobId: string; state: 'waiting' }> {
    await this.commands.execute(new RetryDeadLetterJobCommand(id));
    return { jobId: id, state: 'waiting' };
  }
}
