import { AuditExempt } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, type AuthenticatedUser } from '../../../identity/index.js';
import { GetStaffQuery } from '../../application/queries/get-staff.query.js';
import { ListStaffQuery } from '../../application/queries/list-staff.query.js';
import { ListStaffQueryDto, StaffDto, StaffPageDto } from './roster.dtos.js';
import { RosterIdPipe } from './roster-id.pipe.js';

/**
 * Staff as the SIS sends them: district roles see all, school admins the staff of their schools, teachers their
 * own records only (see `roster-access-scope.ts`). A person who also holds the student role is never listed here.
 */
@ApiTags('roster')
@ApiBearerAuth()
@AuditExempt('Staff records, not education records: anyone holding the student role is left out')
@Controller('staff')
export class StaffController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'Search or list the active staff you may see (teachers, aides, proctors, administrators)' })
  @ApiOkResponse({ type: StaffPageDto, description: 'Active staff you may see: by name, or best match first' })
  @ApiProblems({ 400: ['ROSTER.INVALID_CURSOR', 'ROSTER.INVALID_PAGE_SIZE'] })
  async list(@CurrentUser() user: AuthenticatedUser, @Query() query: ListStaffQueryDto): Promise<StaffPageDto> {
    const page = await this.queries.execute(
      new ListStaffQuery(user, {
        search: query.search,
        schoolId: query.schoolId,
        connectionId: query.connectionId,
        role: query.role,
        limit: query.limit,
        cursor: query.cursor,
      }),
    );
    return { items: page.items.map((staff) => StaffDto.from(staff)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One staff member' })
  @ApiOkResponse({ type: StaffDto, description: 'The staff member, if within your scope' })
  @ApiProblems({ 403: ['ROSTER.ACCESS_DENIED'], 404: ['ROSTER.PERSON_NOT_FOUND'] })
  async get(@CurrentUser() user: AuthenticatedUser, @Param('id', RosterIdPipe) id: string): Promise<StaffDto> {
    return StaffDto.from(await this.queries.execute(new GetStaffQuery(user, id)));
  }
}
