import { Audited, AuditExempt } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { rosterAuditPolicies } from './roster-audit.policies.js';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, type AuthenticatedUser } from '../../../identity/index.js';
import { GetClassRosterQuery } from '../../application/queries/get-class-roster.query.js';
import { ListClassesQuery } from '../../application/queries/list-classes.query.js';
import { ClassDto, ClassPageDto, ClassRosterDto, ListClassesQueryDto } from './roster.dtos.js';
import { RosterIdPipe } from './roster-id.pipe.js';

@ApiTags('roster')
@ApiBearerAuth()
@Controller('classes')
export class ClassesController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @AuditExempt('Class sections and teachers, no student records')
  @ApiOperation({ summary: 'List the active classes you may see' })
  @ApiOkResponse({ type: ClassPageDto, description: 'Active classes you may see, by title' })
  @ApiProblems({ 400: ['ROSTER.INVALID_CURSOR', 'ROSTER.INVALID_PAGE_SIZE'] })
  async list(@CurrentUser() user: AuthenticatedUser, @Query() query: ListClassesQueryDto): Promise<ClassPageDto> {
    const page = await this.queries.execute(
      new ListClassesQuery(user, {
        schoolId: query.schoolId,
        connectionId: query.connectionId,
        limit: query.limit,
        cursor: query.cursor,
      }),
    );
    return { items: page.items.map((item) => ClassDto.from(item)), nextCursor: page.nextCursor };
  }

  @Get(':id/roster')
  @Audited(rosterAuditPolicies.readClassRoster)
  @ApiOperation({ summary: 'A class with its teachers and enrolled students (audited read)' })
  @ApiOkResponse({ type: ClassRosterDto, description: 'The class roster, if within your school scope' })
  @ApiProblems({ 403: ['ROSTER.ACCESS_DENIED'], 404: ['ROSTER.CLASS_NOT_FOUND'] })
  async roster(@CurrentUser() user: AuthenticatedUser, @Param('id', RosterIdPipe) id: string): Promise<ClassRosterDto> {
    return ClassRosterDto.from(await this.queries.execute(new GetClassRosterQuery(user, id)));
  }
}
