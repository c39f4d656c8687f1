import { Audited } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { rosterAuditPolicies } from './roster-audit.policies.js';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
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
  @ApiOperation({ summary: 'Search or list the active students you may see' })
  @ApiOkResponse({ type: StudentPageDto, description: 'Active students you may see: by name, or best match first' })
  @ApiProblems({ 400: ['ROSTER.INVALID_CURSOR', 'ROSTER.INVALID_PAGE_SIZE'] })
  async list(@CurrentUser() user: AuthenticatedUser, @Query() query: ListStudentsQueryDto): Promise<StudentPageDto> {
    const page = await this.queries.execute(
      new ListStudentsQuery(user, {
        search: query.search,
        schoolId: query.schoolId,
        connectionId: query.connectionId,
        limit: query.limit,
        cursor: query.cursor,
      }),
    );
    return { items: page.items.map((student) => StudentDto.from(student)), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @Audited(rosterAuditPolicies.readStudent)
  @ApiOperation({ summary: 'One student with enrollments and contacts (audited read)' })
  @ApiOkResponse({ type: StudentDetailDto, description: 'The student, if within your school scope' })
  @ApiProblems({ 403: ['ROSTER.ACCESS_DENIED'], 404: ['ROSTER.STUDENT_NOT_FOUND'] })
  async get(@CurrentUser() user: AuthenticatedUser, @Param('id', RosterIdPipe) id: string): Promise<StudentDetailDto> {
    return StudentDetailDto.fromDetail(await this.queries.execute(new GetStudentQuery(user, id)));
  }
}
