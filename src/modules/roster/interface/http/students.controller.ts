import { Audited } from '@app/audit-capture';
import { rosterAuditPolicies } from './roster-audit.policies.js';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, type AuthenticatedUser } from '../../../identity/index.js';
import { GetStudentQuery } from '../../application/queries/get-student.query.js';
import { ListStudentsQuery } from '../../application/queries/list-students.query.js';
import { ListStudentsQueryDto, StudentDetailDto, StudentDto, StudentPageDto } from './roster.dtos.js';
import { RosterIdPipe } from './roster-id.pipe.js';

@ApiTags('roster')
@ApiBearerAuth()
@Controller('students')
export class StudentsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @Audited(rosterAuditPolicies.listStudents)
  @ApiOkResponse({ type: StudentPageDto, description: 'Active students you may see: by name, or best match first' })
  async list(@CurrentUser() user: AuthenticatedUser, @Query() query: ListStudentsQueryDto): Promise<StudentPageDto> {
    const page = await this.queries.execute(
      new ListStudentsQuery(user, {
        search: query.search,
        schoolId: query.schoolId,
        limit: query.limit,
        cursor: query.cursor,
      }),
    );
    return { items: page.items.map((student) => StudentDto.from(student)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @Audited(rosterAuditPolicies.readStudent)
  @ApiOkResponse({ type: StudentDetailDto, description: '403 ROSTER.ACCESS_DENIED outside your scope' })
  async get(@CurrentUser() user: AuthenticatedUser, @Param('id', RosterIdPipe) id: string): Promise<StudentDetailDto> {
    return StudentDetailDto.fromDetail(await this.queries.execute(new GetStudentQuery(user, id)));
  }
}
