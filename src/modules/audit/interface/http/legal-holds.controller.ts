import { Audited, type AuditPolicy } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { CurrentUser, RequireRoles, type AuthenticatedUser } from '../../../identity/index.js';
import { PlaceLegalHoldCommand } from '../../application/commands/place-legal-hold.command.js';
import { ReleaseLegalHoldCommand } from '../../application/commands/release-legal-hold.command.js';
import { ListLegalHoldsQuery } from '../../application/queries/list-legal-holds.query.js';
import { AuditIdPipe } from './audit-id.pipe.js';
import { httpOrigin, userActor } from './http-origin.js';
import { LegalHoldDto, LegalHoldPageDto, ListLegalHoldsQueryDto, PlaceLegalHoldDto } from './legal-hold.dtos.js';

function holdPolicy(action: string, mode: AuditPolicy['mode'], subjects: AuditPolicy['subjects']): AuditPolicy {
  return { action, resource: 'legal_hold', dataCategories: ['audit_trail'], subjects, mode };
}

const HOLD_SUBJECT: AuditPolicy['subjects'] = {
  from: 'result',
  select: (result) => [(result as LegalHoldDto).studentId],
};

/** Legal holds (99.10(e)): while one is active, the retention purge keeps every entry about the student. */
@ApiTags('audit')
@ApiBearerAuth()
@RequireRoles('compliance_officer', 'district_admin')
@Controller('audit')
export class LegalHoldsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('legal-holds')
  @HttpCode(201)
  @Audited(holdPolicy('legal_hold.place', 'write', HOLD_SUBJECT))
  @ApiOperation({ summary: 'Place a legal hold: the retention purge keeps every entry about the student' })
  @ApiCreatedResponse({ type: LegalHoldDto })
  @ApiProblems({ 422: ['AUDIT.LEGAL_HOLD_REASON_INVALID', 'AUDIT.UNKNOWN_STUDENTS'] })
  async place(
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: PlaceLegalHoldDto,
    @Req() request: Request,
  ): Promise<LegalHoldDto> {
    const hold = await this.commands.execute(
      new PlaceLegalHoldCommand(body.studentId, body.reason, userActor(user), httpOrigin(request)),
    );
    return LegalHoldDto.from(hold);
  }

  @Get('legal-holds')
  @Audited(holdPolicy('audit.read', 'read', { from: 'query', name: 'studentId' }))
  @ApiOperation({ summary: 'Legal holds, by student and whether active' })
  @ApiOkResponse({ type: LegalHoldPageDto })
  @ApiProblems({ 400: ['AUDIT.INVALID_CURSOR', 'AUDIT.INVALID_PAGE_SIZE'] })
  async list(@Query() query: ListLegalHoldsQueryDto): Promise<LegalHoldPageDto> {
    const page = await this.queries.execute(
      new ListLegalHoldsQuery(
        { studentId: query.studentId, active: query.active },
        { cursor: query.cursor, limit: query.limit },
      ),
    );
    return { items: page.items.map((hold) => LegalHoldDto.from(hold)), nextCursor: page.nextCursor };
  }

  /** 404 `AUDIT.LEGAL_HOLD_NOT_FOUND`; 409 `AUDIT.LEGAL_HOLD_ALREADY_RELEASED`. */
  @Post('legal-holds/:id/release')
  @HttpCode(200)
  @Audited(holdPolicy('legal_hold.release', 'write', HOLD_SUBJECT))
  @ApiOperation({ summary: 'Release a legal hold' })
  @ApiOkResponse({ type: LegalHoldDto })
  @ApiProblems({ 404: ['AUDIT.LEGAL_HOLD_NOT_FOUND'], 409: ['AUDIT.LEGAL_HOLD_ALREADY_RELEASED'] })
  async release(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', AuditIdPipe) id: string,
    @Req() request: Request,
  ): Promise<LegalHoldDto> {
    return LegalHoldDto.from(
      await this.commands.execute(new ReleaseLegalHoldCommand(id, userActor(user), httpOrigin(request))),
    );
  }
}
