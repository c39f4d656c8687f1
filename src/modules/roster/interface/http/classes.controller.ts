import { Audited, AuditExempt } from '@app/audit-capture';
import { rosterAuditPolicies } from './roster-audit.policies.js';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
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
  @ApiOkResponse({ type: ClassPageDto, description: 'Active classes you may see, by title' })
  async list(@CurrentUser() user: AuthenticatedUser, @Query() query: ListClassesQueryDto): Promise<ClassPageDto> {
    const page = await this.queries.execute(
      new ListClassesQuery(user, { schoolId: query.schoolId, limit: query.limit, cursor: query.cursor }),
    );
    return { items: page.items.map((item) => ClassDto.from(item)), nextCursor: page.nextCursor };
  }

  @Get(':id/roster')
  @Audited(rosterAuditPolicies.readClassRoster)
  @ApiOkResponse({ type: ClassRosterDto, description: '403 ROSTER.ACCESS_DENIED outside your scope' })
  async roster(@CurrentUser() user: AuthenticatedUser, @Param('id', RosterIdPipe) id: string): Promise<ClassRosterDto> {
    return ClassRosterDto.from(await this.queries.execute(new GetClassRosterQuery(user, id)));
  }
}
