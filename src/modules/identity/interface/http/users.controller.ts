import { AuditExempt } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedUser } from '../../application/authenticated-user.js';
import { CreateUserCommand } from '../../application/commands/create-user.command.js';
import { UpdateUserCommand } from '../../application/commands/update-user.command.js';
import { GetUserQuery } from '../../application/queries/get-user.query.js';
import { ListUsersQuery } from '../../application/queries/list-users.query.js';
import { CurrentUser, RequireRoles } from './auth.decorators.js';
import { CreateUserDto, ListUsersQueryDto, UpdateUserDto, UserDto, UserPageDto } from './identity.dtos.js';

@ApiTags('users')
@ApiBearerAuth()
@RequireRoles('district_admin')
@AuditExempt('Staff accounts of Homeroom, no student records')
@Controller('users')
export class UsersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a staff account (roles default to teacher)' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiProblems({
    400: ['IDENTITY.WEAK_PASSWORD'],
    409: ['IDENTITY.EMAIL_TAKEN'],
    422: ['IDENTITY.SCHOOL_SCOPE_UNKNOWN', 'IDENTITY.SCHOOL_SCOPE_AMBIGUOUS'],
  })
  async create(@Body() body: CreateUserDto): Promise<UserDto> {
    const user = await this.commands.execute(
      new CreateUserCommand(body.email, body.displayName, body.password, body.roles, body.schoolIds),
    );
    return UserDto.from(user);
  }

  @Get()
  @ApiOperation({ summary: 'Staff accounts, page by page' })
  @ApiOkResponse({ type: UserPageDto })
  @ApiProblems({ 400: ['IDENTITY.INVALID_CURSOR'] })
  async list(@Query() query: ListUsersQueryDto): Promise<UserPageDto> {
    const page = await this.queries.execute(new ListUsersQuery(query.limit ?? 50, query.cursor));
    return { items: page.items.map((user) => UserDto.from(user)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One staff account' })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems({ 404: ['IDENTITY.USER_NOT_FOUND'] })
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<UserDto> {
    return UserDto.from(await this.queries.execute(new GetUserQuery(id)));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change name, roles, schools or password, or disable the account' })
  @ApiOkResponse({ type: UserDto })
  @ApiProblems({
    400: ['IDENTITY.WEAK_PASSWORD'],
    404: ['IDENTITY.USER_NOT_FOUND'],
    409: ['IDENTITY.SELF_LOCKOUT'],
    422: ['IDENTITY.SCHOOL_SCOPE_UNKNOWN', 'IDENTITY.SCHOOL_SCOPE_AMBIGUOUS'],
  })
  async update(
    @CurrentUser() actor: AuthenticatedUser,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateUserDto,
  ): Promise<UserDto> {
    return UserDto.from(await this.commands.execute(new UpdateUserCommand(actor.id, id, body)));
  }
}
