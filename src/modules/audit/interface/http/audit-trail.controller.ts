import { Audited, AuditStreamStart, type AuditPolicy, type BeginAuditedStream } from '@app/audit-capture';
import { ApiProblems, streamBody } from '@app/http';
import { Controller, Get, Logger, Param, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireRoles } from '../../../identity/index.js';
import { GetActorAccessQuery } from '../../application/queries/get-actor-access.query.js';
import { ListAuditEventsQuery, type AuditEventListPage } from '../../application/queries/list-audit-events.query.js';
import type { AuditEventRecord } from '../../application/ports/audit-trail-read-model.port.js';
import { parseAuditEntry } from '../../domain/audit-entry.js';
import { AuditIdPipe } from './audit-id.pipe.js';
import {
  ActorAccessPageDto,
  ActorAccessQueryDto,
  AuditEventDto,
  AuditEventPageDto,
  ExportAuditEventsQueryDto,
  ListAuditEventsQueryDto,
  StudentAccessDto,
  StudentAccessPageDto,
  StudentAccessQueryDto,
  toFilter,
  toWindow,
} from './audit-trail.dtos.js';
import { csvRow } from '@app/csv';

/** Entries per database round trip of an export: about a megabyte of output per batch. */
const EXPORT_BATCH = 2_000;

const EXPORT_COLUMNS = [
  'seq',
  'occurredAt',
  'action',
  'outcome',
  'reason',
  'actorType',
  'actorId',
  'actorRoles',
  'actorSchoolIds',
  'studentIds',
  'dataCategories',
  'purpose',
  'resourceType',
  'resourceId',
  'channel',
  'requestId',
  'clientIp',
  'userAgent',
  'route',
  'details',
  'entryId',
];

/** Reading the trail is itself an access to education records (the entries name students), so it is audited. */
function auditReadPolicy(subjects: AuditPolicy['subjects'], action = 'audit.read'): AuditPolicy {
  return { action, resource: 'audit_trail', dataCategories: ['audit_trail'], subjects, mode: 'read' };
}

@ApiTags('audit')
@ApiBearerAuth()
@RequireRoles('compliance_officer', 'district_admin')
@Controller('audit')
export class AuditTrailController {
  private readonly logger = new Logger('AuditExport');

  constructor(private readonly queries: QueryBus) {}

  /** The trail, newest first, by student, actor, action, outcome and time window. */
  @Get('events')
  @Audited(auditReadPolicy({ from: 'query', name: 'studentId' }))
  @ApiOperation({ summary: 'The audit trail, newest first, by student, actor, action, outcome and time window' })
  @ApiOkResponse({ type: AuditEventPageDto })
  @ApiProblems({ 400: ['AUDIT.INVALID_CURSOR', 'AUDIT.INVALID_PAGE_SIZE', 'AUDIT.INVALID_RANGE'] })
  async events(@Query() query: ListAuditEventsQueryDto): Promise<AuditEventPageDto> {
    const page = await this.queries.execute(
      new ListAuditEventsQuery(toFilter(query), { cursor: query.cursor, limit: query.limit }),
    );
    return toEventPage(page);
  }

  /** Who accessed this student's records: every recorded access, allowed, denied or failed, newest first. */
  @Get('students/:id/access')
  @Audited(auditReadPolicy({ from: 'param', name: 'id' }))
  @ApiOperation({ summary: "Who accessed this student's records: allowed, denied or failed, newest first" })
  @ApiOkResponse({ type: StudentAccessPageDto })
  @ApiProblems({ 400: ['AUDIT.INVALID_CURSOR', 'AUDIT.INVALID_PAGE_SIZE', 'AUDIT.INVALID_RANGE'] })
  async studentAccess(
    @Param('id', AuditIdPipe) studentId: string,
    @Query() query: StudentAccessQueryDto,
  ): Promise<StudentAccessPageDto> {
    const page = await this.queries.execute(
      new ListAuditEventsQuery(
        {
          studentId,
          actorId: query.actorId?.toLowerCase(),
          action: query.action,
          outcome: query.outcome,
          ...toWindow(query),
        },
        { cursor: query.cursor, limit: query.limit },
      ),
    );
    return {
      studentId,
      items: page.items.map((record) => StudentAccessDto.from(record)),
      nextCursor: page.nextCursor,
    };
  }

  /** What this user accessed: grouped by student (with a flag for students outside their schools), or flat. */
  @Get('actors/:id/access')
  @Audited(auditReadPolicy({ from: 'none' }))
  @ApiOperation({ summary: 'What this user accessed: grouped by student, or flat' })
  @ApiOkResponse({ type: ActorAccessPageDto })
  @ApiProblems({ 400: ['AUDIT.INVALID_CURSOR', 'AUDIT.INVALID_PAGE_SIZE', 'AUDIT.INVALID_RANGE'] })
  async actorAccess(
    @Param('id', AuditIdPipe) actorId: string,
    @Query() query: ActorAccessQueryDto,
  ): Promise<ActorAccessPageDto> {
    const window = toWindow(query);
    if (query.view === 'flat') {
      const page = await this.queries.execute(
        new ListAuditEventsQuery({ actorId, ...window }, { cursor: query.cursor, limit: query.limit }),
      );
      const latest = page.items[0] ? parseAuditEntry(page.items[0].text).actor : null;
      return {
        actorId,
        view: 'flat',
        actor: latest && { roles: latest.roles, schoolIds: latest.schoolIds },
        ...toEventPage(page),
      };
    }
    const page = await this.queries.execute(
      new GetActorAccessQuery(actorId, window, { cursor: query.cursor, limit: query.limit }),
    );
    return ActorAccessPageDto.grouped(actorId, page);
  }

  /**
   * Every matching entry, oldest first, as JSON Lines (one stored entry per line, with its `seq`) or CSV. Read
   * from the database in keyset batches and written as the client reads, so memory stays flat at any size.
   */
  @Get('export')
  @Audited({ ...auditReadPolicy({ from: 'query', name: 'studentId' }, 'audit.export'), mode: 'stream' })
  @ApiOperation({ summary: 'Export matching entries, oldest first, as JSON Lines or CSV (streamed)' })
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({
    description: 'One stored entry per line with its `seq` (JSON Lines), or CSV with a header row; an attachment',
    content: {
      'application/x-ndjson': {
        schema: { type: 'string' },
        example: '{"seq":1,"id":"0b0f3c1e-8c8e-4f7b-9a53-8f1f0e2a6c11","action":"student.read","outcome":"allowed"}\n',
      },
      'text/csv': { schema: { type: 'string' }, example: 'seq,occurredAt,action,outcome\r\n' },
    },
  })
  @ApiProblems({ 400: ['AUDIT.INVALID_CURSOR', 'AUDIT.INVALID_PAGE_SIZE', 'AUDIT.INVALID_RANGE'] })
  async export(
    @Query() query: ExportAuditEventsQueryDto,
    @Res() response: Response,
    @AuditStreamStart() beginAudited: BeginAuditedStream,
  ): Promise<void> {
    const filter = toFilter(query);
    const csv = query.format === 'csv';
    const batch = (cursor?: string): Promise<AuditEventListPage> =>
      this.queries.execute(
        new ListAuditEventsQuery(filter, {
          order: 'asc',
          cursor,
          limit: EXPORT_BATCH,
          maxLimit: EXPORT_BATCH,
          catchUp: cursor === undefined,
        }),
      );
    // The first batch is read before anything is sent, so a bad filter is still an ordinary problem response.
    let page = await batch();
    await beginAudited();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    response
      .status(200)
      .type(csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .setHeader('Content-Disposition', `attachment; filename="audit-trail-${stamp}.${csv ? 'csv' : 'jsonl'}"`)
      .setHeader('Cache-Control', 'no-store');
    await streamBody(
      response,
      async (write) => {
        if (csv) await write(csvRow(EXPORT_COLUMNS));
        for (;;) {
          const chunk = page.items.map(csv ? toCsvLine : toJsonLine).join('');
          if (chunk.length > 0) await write(chunk);
          if (!page.nextCursor) break;
          page = await batch(page.nextCursor);
        }
      },
      (error) => this.logger.error({ err: error }, 'An audit export failed after it started'),
    );
  }
}

function toEventPage(page: AuditEventListPage): AuditEventPageDto {
  return { items: page.items.map((record) => AuditEventDto.from(record)), nextCursor: page.nextCursor };
}

/** The stored canonical JSON with `seq` spliced in front: no parse and re-serialise per line. */
function toJsonLine(record: AuditEventRecord): string {
  return `{"seq":${record.seq},${record.text.slice(1)}\n`;
}

function toCsvLine(record: AuditEventRecord): string {
  const entry = parseAuditEntry(record.text);
  return csvRow([
    record.seq,
    entry.occurredAt,
    entry.action,
    entry.outcome,
    entry.reason,
    entry.actor.type,
    entry.actor.id,
    entry.actor.roles.join(' '),
    entry.actor.schoolIds.join(' '),
    entry.studentIds.join(' '),
    entry.dataCategories.join(' '),
    entry.purpose,
    entry.resource.type,
    entry.resource.id,
    entry.origin.channel,
    entry.origin.requestId,
    entry.origin.clientIp,
    entry.origin.userAgent,
    entry.origin.route,
    JSON.stringify(entry.details),
    entry.id,
  ]);
}
