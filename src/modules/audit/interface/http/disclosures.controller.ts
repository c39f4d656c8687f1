import { Audited } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentUser, RequireRoles, type AuthenticatedUser } from '../../../identity/index.js';
import { RecordDisclosureCommand } from '../../application/commands/record-disclosure.command.js';
import { ListStudentDisclosuresQuery } from '../../application/queries/list-student-disclosures.query.js';
import { AuditIdPipe } from './audit-id.pipe.js';
import { csvRow } from '@app/csv';
import {
  DisclosureDto,
  RecordDisclosureDto,
  StudentDisclosuresDto,
  StudentDisclosuresQueryDto,
} from './disclosure.dtos.js';
import { httpOrigin, userActor } from './http-origin.js';

const CSV_COLUMNS = [
  'disclosureId',
  'disclosedOn',
  'partyName',
  'partyType',
  'basis',
  'recordRequired',
  'legitimateInterest',
  'dataCategories',
  'redisclosureParties',
  'emergencyThreat',
  'emergencyRecipients',
  'parentNotifiedAt',
  'recordedAt',
  'recordedBy',
];

/** Records of disclosures of students' PII to third parties (34 CFR 99.32). */
@ApiTags('audit')
@ApiBearerAuth()
@RequireRoles('compliance_officer', 'district_admin')
@Controller('audit')
export class DisclosuresController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  /** 422 `AUDIT.DISCLOSURE_INCOMPLETE` lists every missing or invalid field; 422 `AUDIT.UNKNOWN_STUDENTS`. */
  @Post('disclosures')
  @HttpCode(201)
  @Audited({
    action: 'disclosure.create',
    resource: 'disclosure',
    dataCategories: ['disclosures'],
    subjects: { from: 'result', select: (result) => (result as DisclosureDto).studentIds },
    mode: 'write',
  })
  @ApiOperation({ summary: "Record a disclosure of students' PII to a third party (34 CFR 99.32)" })
  @ApiCreatedResponse({ type: DisclosureDto })
  @ApiProblems({ 422: ['AUDIT.DISCLOSURE_INCOMPLETE', 'AUDIT.UNKNOWN_STUDENTS'] })
  async record(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: RecordDisclosureDto,
    @Req() request: Request,
  ): Promise<DisclosureDto> {
    const disclosure = await this.commands.execute(
      new RecordDisclosureCommand({ ...body }, userActor(user), httpOrigin(request)),
    );
    return DisclosureDto.from(disclosure);
  }

  /** The student's record of disclosures, oldest first: JSON, or CSV with `Accept: text/csv`. */
  @Get('students/:id/disclosures')
  @Audited({
    action: 'audit.read',
    resource: 'disclosure_record',
    dataCategories: ['disclosures'],
    subjects: { from: 'param', name: 'id' },
    mode: 'read',
  })
  @ApiOperation({ summary: "The student's record of disclosures, oldest first (JSON, or CSV with Accept: text/csv)" })
  @ApiOkResponse({
    description: 'JSON by default; CSV with a header row when the client accepts text/csv',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(StudentDisclosuresDto) } },
      'text/csv': { schema: { type: 'string' }, example: 'disclosureId,disclosedOn,partyName\r\n' },
    },
  })
  @ApiExtraModels(StudentDisclosuresDto)
  async forStudent(
    @Param('id', AuditIdPipe) studentId: string,
    @Query() query: StudentDisclosuresQueryDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StudentDisclosuresDto | string> {
    const scope = query.scope ?? 'all';
    const disclosures = await this.queries.execute(new ListStudentDisclosuresQuery(studentId, scope));
    const items = disclosures.map((disclosure) => DisclosureDto.forStudent(disclosure, studentId));
    if (request.accepts(['application/json', 'text/csv']) !== 'text/csv') return { studentId, scope, items };
    response
      .type('text/csv; charset=utf-8')
      .setHeader('Content-Disposition', `attachment; filename="student-${studentId}-disclosures.csv"`);
    return [
      csvRow(CSV_COLUMNS),
      ...items.map((item) =>
        csvRow([
          item.id,
          item.disclosedOn,
          item.party.name,
          item.party.type,
          item.basis,
          item.recordRequired,
          item.legitimateInterest,
          item.dataCategories.join(' '),
          item.redisclosureParties.map((party) => `${party.name}: ${party.legitimateInterest}`).join('; '),
          item.emergency?.threat,
          item.emergency?.recipients.join('; '),
          item.parentNotifiedAt,
          item.recordedAt,
          item.recordedBy,
        ]),
      ),
    ].join('');
  }
}
