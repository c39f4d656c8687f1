import { AuditExempt } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser, RequireRoles, type AuthenticatedUser } from '../../../identity/index.js';
import { CreateConnectionCommand } from '../../application/commands/create-connection.command.js';
import { DeleteConnectionCommand } from '../../application/commands/delete-connection.command.js';
import { UpdateConnectionCommand } from '../../application/commands/update-connection.command.js';
import { GetConnectionQuery } from '../../application/queries/get-connection.query.js';
import { ListConnectionsQuery } from '../../application/queries/list-connections.query.js';
import {
  CreateSisConnectionDto,
  SisConnectionDto,
  SisConnectionListDto,
  UpdateSisConnectionDto,
} from './sis-connection.dtos.js';

/** District IT manages the SIS connections; secrets go in and never come back out. */
@ApiTags('sis-connections')
@ApiBearerAuth()
@RequireRoles('district_admin', 'sis_operator')
@AuditExempt('SIS connection settings, no student records')
@Controller('sis/connections')
export class SisConnectionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a SIS connection (OneRoster or PowerSchool); the secret is stored encrypted' })
  @ApiCreatedResponse({ type: SisConnectionDto })
  @ApiProblems({
    409: ['SIS_SYNC.CONNECTION_NAME_TAKEN'],
    422: ['SIS_SYNC.INVALID_CONNECTION_SETTINGS', 'SIS_SYNC.PROVIDER_NOT_SUPPORTED'],
  })
  async create(
    @CurrentUser() actor: AuthenticatedUser,
    @Body() body: CreateSisConnectionDto,
  ): Promise<SisConnectionDto> {
    return SisConnectionDto.from(await this.commands.execute(new CreateConnectionCommand(actor.id, body)));
  }

  @Get()
  @ApiOperation({ summary: 'Every SIS connection (secrets never included)' })
  @ApiOkResponse({ type: SisConnectionListDto })
  async list(): Promise<SisConnectionListDto> {
    const connections = await this.queries.execute(new ListConnectionsQuery());
    return { items: connections.map((connection) => SisConnectionDto.from(connection)) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One SIS connection (its secret never included)' })
  @ApiOkResponse({ type: SisConnectionDto })
  @ApiProblems({ 404: ['SIS_SYNC.CONNECTION_NOT_FOUND'] })
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<SisConnectionDto> {
    return SisConnectionDto.from(await this.queries.execute(new GetConnectionQuery(id)));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change some settings of a connection; nested objects are replaced whole' })
  @ApiOkResponse({ type: SisConnectionDto })
  @ApiProblems({
    404: ['SIS_SYNC.CONNECTION_NOT_FOUND'],
    409: ['SIS_SYNC.CONNECTION_NAME_TAKEN'],
    422: ['SIS_SYNC.INVALID_CONNECTION_SETTINGS', 'SIS_SYNC.PROVIDER_NOT_SUPPORTED'],
  })
  async update(
    @CurrentUser() actor: AuthenticatedUser,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateSisConnectionDto,
  ): Promise<SisConnectionDto> {
    return SisConnectionDto.from(await this.commands.execute(new UpdateConnectionCommand(actor.id, id, body)));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a connection (refused while a run is queued, running or held)' })
  @ApiNoContentResponse({ description: 'Deleted: no longer listed or synced; the mirrored roster data stays' })
  @ApiProblems({ 404: ['SIS_SYNC.CONNECTION_NOT_FOUND'], 409: ['SIS_SYNC.RUN_ALREADY_ACTIVE'] })
  async remove(@CurrentUser() actor: AuthenticatedUser, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.commands.execute(new DeleteConnectionCommand(actor.id, id));
  }
}
