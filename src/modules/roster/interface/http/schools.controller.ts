import { AuditExempt } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, type AuthenticatedUser } from '../../../identity/index.js';
import { ListSchoolsQuery } from '../../application/queries/list-schools.query.js';
import { RosterPageQueryDto, SchoolDto, SchoolPageDto } from './roster.dtos.js';

@ApiTags('roster')
@ApiBearerAuth()
@AuditExempt('Schools of the district, no student records')
@Controller('schools')
export class SchoolsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'List the active schools you may see' })
  @ApiOkResponse({ type: SchoolPageDto, description: 'Active schools you may see, by name' })
  @ApiProblems({ 400: ['ROSTER.INVALID_CURSOR', 'ROSTER.INVALID_PAGE_SIZE'] })
  async list(@CurrentUser() user: AuthenticatedUser, @Query() query: RosterPageQueryDto): Promise<SchoolPageDto> {
    const page = await this.queries.execute(new ListSchoolsQuery(user, { limit: query.limit, cursor: query.cursor }));
    return { items: page.items.map((school) => SchoolDto.from(school)), nextCursor: page.nextCursor };
  }
}
