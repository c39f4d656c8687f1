import { AuditExempt } from '@app/audit-capture';
import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Patch, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { CurrentUser, RequireRoles, type AuthenticatedUser } from '../../../identity/index.js';
import { CreateConnectionCommand } from '../../application/commands/create-connection.command.js';
import { DeleteConnectionCommand } from '../../application/commands/delete-connection.command.js';
import { UpdateConnectionCommand } from '../../application/commands/update-connection.command.js';
import { GetConnectionQuery, ListConnectionsQuery } from '../../application/queries/connection.queries.js';
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
  @ApiCreatedResponse({ type: SisConnectionDto })
  @ApiConflictResponse({ description: 'SIS_SYNC.CONNECTION_NAME_TAKEN' })
  @ApiUnprocessableEntityResponse({
    description: 'SIS_SYNC.INVALID_CONNECTION_SETTINGS (the field is named) or SIS_SYNC.PROVIDER_NOT_SUPPORTED',
  })
  async create(
    @CurrentUser() actor: AuthenticatedUser,
    @Body() body: CreateSisConnectionDto,
  ): Promise<SisConnectionDto> {
    return SisConnectionDto.from(await this.commands.execute(new CreateConnectionCommand(actor.id, body)));
  }

  @Get()
  @ApiOkResponse({ type: SisConnectionListDto })
  async list(): Promise<SisConnectionListDto> {
    const connections = await this.queries.execute(new ListConnectionsQuery());
    return { items: connections.map((connection) => SisConnectionDto.from(connection)) };
  }

  @Get(':id')
  @ApiOkResponse({ type: SisConnectionDto })
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<SisConnectionDto> {
    return SisConnectionDto.from(await this.queries.execute(new GetConnectionQuery(id)));
  }

  @Patch(':id')
  @ApiOkResponse({ type: SisConnectionDto })
  @ApiConflictResponse({ description: 'SIS_SYNC.CONNECTION_NAME_TAKEN' })
  @ApiUnprocessableEntityResponse({ description: 'SIS_SYNC.INVALID_CONNECTION_SETTINGS (the field is named)' })
  async update(
    @CurrentUser() actor: AuthenticatedUser,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateSisConnectionDto,
  ): Promise<SisConnectionDto> {
    return SisConnectionDto.from(await this.commands.execute(new UpdateConnectionCommand(actor.id, id, body)));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse({ description: 'Deleted: no longer listed or synced; the mirrored roster data stays' })
  @ApiConflictResponse({ description: 'SIS_SYNC.RUN_ALREADY_ACTIVE: a run is queued, running or held' })
  async remove(@CurrentUser() actor: AuthenticatedUser, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.commands.execute(new DeleteConnectionCommand(actor.id, id));
  }
}
