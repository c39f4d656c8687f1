import { AuditExempt } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRoles } from '../../../identity/index.js';
import { TestConnectionCommand } from '../../application/commands/test-connection.command.js';
import { GetConnectionHealthQuery } from '../../application/queries/connection-health.query.js';
import { ConnectionHealthDto, ConnectionTestDto } from './connection-health.dtos.js';

/** Is a connection working: test it now, or see how its runs have been going. */
@ApiTags('sis-connections')
@ApiBearerAuth()
@RequireRoles('district_admin', 'sis_operator')
@AuditExempt('Connection reachability and health, no student records')
@Controller('sis/connections')
export class ConnectionHealthController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  /** Answers within the connection's request timeout with a verdict per check; a failed check is still a 200. */
  @Post(':id/test')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Test a connection now: reachability, sign-in, a read (a failed check is still a 200)',
    description:
      'A CSV connection has no SIS to reach: its one `upload` check says whether uploads into it are taken and ' +
      'how to check a package (a dry-run upload).',
  })
  @ApiOkResponse({ type: ConnectionTestDto })
  @ApiProblems({
    404: ['SIS_SYNC.CONNECTION_NOT_FOUND'],
    503: ['SIS_SYNC.SECRET_UNREADABLE'],
  })
  async test(@Param('id', ParseUUIDPipe) id: string): Promise<ConnectionTestDto> {
    return ConnectionTestDto.from(await this.commands.execute(new TestConnectionCommand(id)));
  }

  @Get(':id/health')
  @ApiOperation({ summary: "How the connection's recent runs went" })
  @ApiOkResponse({ type: ConnectionHealthDto })
  @ApiProblems({ 404: ['SIS_SYNC.CONNECTION_NOT_FOUND'] })
  async health(@Param('id', ParseUUIDPipe) id: string): Promise<ConnectionHealthDto> {
    return ConnectionHealthDto.from(await this.queries.execute(new GetConnectionHealthQuery(id)));
  }
}
