import {
  Audited,
  AuditExempt,
  AuditStreamStart,
  withAuditSubjects,
  type AuditPolicy,
  type BeginAuditedStream,
} from '@app/audit-capture';
import type {} from 'multer';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Logger,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
  UploadedFile,
  UseInterceptors,
} from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiProblems, streamBody } from '@app/http';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { CurrentUser, RequireRoles, type AuthenticatedUser } from '../../../identity/index.js';
import { ApproveSyncRunCommand } from '../../application/commands/approve-sync-run.command.js';
import { CancelSyncRunCommand } from '../../application/commands/cancel-sync-run.command.js';
import { DiscardSyncRunCommand } from '../../application/commands/discard-sync-run.command.js';
import { ImportOneRosterCsvCommand } from '../../application/commands/import-oneroster-csv.command.js';
import { RestoreSyncRunCommand } from '../../application/commands/restore-sync-run.command.js';
import { StartSyncRunCommand } from '../../application/commands/start-sync-run.command.js';
import { FindStudentIdsNamedByRecordsQuery } from '../../application/queries/find-student-ids-named-by-records.query.js';
import { GetSyncRunQuery } from '../../application/queries/get-sync-run.query.js';
import { ListSyncRunIssuesQuery } from '../../application/queries/list-sync-run-issues.query.js';
import { ListSyncRunStudentIdsQuery } from '../../application/queries/list-sync-run-student-ids.query.js';
import { ListSyncRunsQuery } from '../../application/queries/list-sync-runs.query.js';
import { ListVendorGuidesQuery } from '../../application/queries/list-vendor-guides.query.js';
import { ImportFileInvalidError } from '../../domain/sync-run.errors.js';
import {
  ImportCsvFormDto,
  ListSyncRunsQueryDto,
  RunAcceptedDto,
  RestoreResultDto,
  RestoreSyncRunDto,
  RunIssueDto,
  RUN_ISSUE_CSV_HEADER,
  runIssueCsvRow,
  StartSyncRunDto,
  SyncRunDto,
  SyncRunPageDto,
} from './sync-run.dtos.js';

/** Largest OneRoster CSV zip accepted (a 50k-student district zips to a few tens of MB). */
const MAX_IMPORT_BYTES = 512 * 1024 * 1024;
const ISSUE_PAGE = 1000;

/**
 * Sync runs carry student records (previews, issues naming sourcedIds) and change them in bulk, so reading and
 * steering a run is audited; the records a run writes are audited per run when it settles. Reading a run's
 * preview samples or its issues names the students they are (by local id) in the entry; lists and the answers
 * of steering calls leave the samples out.
 */
function syncRunAuditPolicy(
  action: string,
  resource = 'sync_run',
  subjects: AuditPolicy['subjects'] = { from: 'none' },
): AuditPolicy {
  return { action, resource, dataCategories: ['roster_sync'], subjects, mode: 'read' };
}

const VENDOR_PRESETS_SCHEMA = {
  type: 'array',
  items: {
    type: 'object',
    required: ['vendor', 'label', 'versions', 'basePaths', 'tokenPath', 'authTypes', 'notes', 'defaults'],
    properties: {
      vendor: { type: 'string', example: 'infinite-campus' },
      label: { type: 'string', example: 'Infinite Campus' },
      versions: { type: 'array', items: { type: 'string', enum: ['1.1', '1.2'] } },
      basePaths: { type: 'object', additionalProperties: { type: 'string' } },
      tokenPath: { type: 'string', nullable: true, example: '/campus/oauth2/token?appName={appName}' },
      authTypes: { type: 'array', items: { type: 'string', enum: ['oauth2', 'oauth1'] } },
      notes: { type: 'array', items: { type: 'string' } },
      defaults: { type: 'object', description: 'Per version: the settings a new connection gets' },
    },
  },
};

@ApiTags('sis-sync')
@ApiBearerAuth()
@RequireRoles('district_admin', 'sis_operator')
@Controller('sis')
export class SyncRunsController {
  private readonly logger = new Logger('SyncRunIssuesExport');

  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('connections/:id/sync')
  @Audited(syncRunAuditPolicy('roster_sync.start', 'sis_connection'))
  @HttpCode(202)
  @ApiOperation({
    summary: 'Start a sync run of this connection (queued; follow it on GET /sis/runs/{id})',
    description: 'A oneroster-csv connection runs only from an upload (POST /sis/imports): refused here with 422.',
  })
  @ApiAcceptedResponse({ type: RunAcceptedDto })
  @ApiProblems({
    404: ['SIS_SYNC.CONNECTION_NOT_FOUND'],
    409: ['SIS_SYNC.RUN_ALREADY_ACTIVE', 'SIS_SYNC.CONNECTION_DISABLED'],
    422: ['SIS_SYNC.CSV_CONNECTION_NEEDS_UPLOAD'],
    503: ['QUEUE.UNAVAILABLE'],
  })
  async start(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', ParseUUIDPipe) connectionId: string,
    @Body() body: StartSyncRunDto,
  ): Promise<RunAcceptedDto> {
    const run = await this.commands.execute(
      new StartSyncRunCommand({
        connectionId,
        mode: body.mode ?? 'delta',
        dryRun: body.dryRun ?? false,
        trigger: 'manual',
        requestedBy: user.id,
        remaster: body.remaster ?? false,
      }),
    );
    return { runId: run.id, state: run.state };
  }

  @Post('imports')
  @Audited(syncRunAuditPolicy('roster_sync.import', 'sis_import'))
  @HttpCode(202)
  @ApiOperation({
    summary: 'Import a OneRoster CSV zip (multipart field "file") as a sync run',
    description:
      'Into the oneroster-csv connection `connectionId` names (422 for another provider), or without it into the ' +
      'shared "OneRoster CSV uploads" connection.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        file: { type: 'string', format: 'binary', description: 'The OneRoster CSV package (.zip)' },
        connectionId: {
          type: 'string',
          format: 'uuid',
          description: 'A oneroster-csv connection; left out: the shared "OneRoster CSV uploads" connection',
        },
        dryRun: {
          type: 'string',
          enum: ['true', 'false'],
          default: 'false',
          description: 'true: validate and preview the changes, apply nothing',
        },
      },
    },
  })
  @ApiAcceptedResponse({ type: RunAcceptedDto })
  @ApiProblems({
    400: ['SIS_SYNC.IMPORT_FILE_INVALID'],
    404: ['SIS_SYNC.CONNECTION_NOT_FOUND'],
    409: ['SIS_SYNC.RUN_ALREADY_ACTIVE', 'SIS_SYNC.CONNECTION_DISABLED'],
    413: ['HTTP.PAYLOAD_TOO_LARGE'],
    422: ['SIS_SYNC.NOT_A_CSV_CONNECTION'],
    503: ['QUEUE.UNAVAILABLE'],
  })
  // Browsers send the file name as raw UTF-8 without a charset: read it as such (multer's default is latin1).
  @UseInterceptors(
    FileInterceptor('file', {
      dest: tmpdir(),
      defParamCharset: 'utf8',
      limits: { fileSize: MAX_IMPORT_BYTES, files: 1 },
    }),
  )
  async import(
    @CurrentUser() user: AuthenticatedUser,
    @UploadedFile() file: Express.Multer.File | undefined,
    @Body() body: ImportCsvFormDto,
  ): Promise<RunAcceptedDto> {
    if (!file) throw new ImportFileInvalidError('Send the OneRoster CSV zip as the multipart field "file"');
    try {
      if (!(await looksLikeZip(file.path))) {
        throw new ImportFileInvalidError('The file is not a zip archive (a OneRoster CSV package is a .zip)');
      }
      const run = await this.commands.execute(
        new ImportOneRosterCsvCommand(
          createReadStream(file.path),
          user.id,
          body.dryRun ?? false,
          body.connectionId,
          file.originalname,
        ),
      );
      return { runId: run.id, state: run.state };
    } finally {
      await rm(file.path, { force: true });
    }
  }

  /** Where each vendor's OneRoster service lives, its auth, its rules and the defaults a connection gets. */
  @Get('vendor-presets')
  @AuditExempt('Vendor defaults, no student records')
  @ApiOperation({ summary: "Each vendor's OneRoster paths, auth, rules and connection defaults" })
  @ApiOkResponse({ schema: VENDOR_PRESETS_SCHEMA })
  vendorPresets(): Promise<unknown[]> {
    return this.queries.execute(new ListVendorGuidesQuery());
  }

  @Get('runs')
  @AuditExempt('Run states and counts (preview samples left out), no student records')
  @ApiOperation({ summary: 'Sync runs, newest first, by connection and state' })
  @ApiOkResponse({ type: SyncRunPageDto })
  @ApiProblems({ 400: ['SIS_SYNC.INVALID_CURSOR'] })
  async list(@Query() query: ListSyncRunsQueryDto): Promise<SyncRunPageDto> {
    const page = await this.queries.execute(
      new ListSyncRunsQuery(query.limit ?? 50, query.cursor, query.connectionId, query.state),
    );
    return { items: page.items.map((run) => SyncRunDto.from(run)), nextCursor: page.nextCursor };
  }

  @Get('runs/:id')
  @Audited(syncRunAuditPolicy('sync_run.read', 'sync_run', { from: 'handler' }))
  @ApiOperation({ summary: 'One run: state, counts, hold reasons and preview samples (audited read)' })
  @ApiOkResponse({ type: SyncRunDto })
  @ApiProblems({ 404: ['SIS_SYNC.RUN_NOT_FOUND'] })
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<SyncRunDto> {
    const run = await this.queries.execute(new GetSyncRunQuery(id));
    const named = await this.queries.execute(new ListSyncRunStudentIdsQuery(run.id, 'preview'));
    return withAuditSubjects(SyncRunDto.from(run, { samples: true }), named);
  }

  /** JSON, or CSV (entity, sourcedId, field, severity, message) with `Accept: text/csv`; streamed page by page. */
  @Get('runs/:id/issues')
  @Audited({ ...syncRunAuditPolicy('sync_run_issues.read', 'sync_run', { from: 'handler' }), mode: 'stream' })
  @ApiOperation({ summary: "The run's per-record issues: JSON, or CSV with Accept: text/csv (streamed)" })
  @ApiExtraModels(RunIssueDto)
  @ApiOkResponse({
    description: 'Every issue of the run',
    content: {
      'application/json': { schema: { type: 'array', items: { $ref: getSchemaPath(RunIssueDto) } } },
      'text/csv': { schema: { type: 'string' }, example: 'entity,sourcedId,field,severity,message\r\n' },
    },
  })
  @ApiProblems({ 404: ['SIS_SYNC.RUN_NOT_FOUND'] })
  async issues(
    @Param('id', ParseUUIDPipe) id: string,
    @Req() request: Request,
    @Res() response: Response,
    @AuditStreamStart() beginAudited: BeginAuditedStream,
  ): Promise<void> {
    const csv = request.accepts(['application/json', 'text/csv']) === 'text/csv';
    let page = await this.queries.execute(new ListSyncRunIssuesQuery(id, ISSUE_PAGE, 0));
    await beginAudited(await this.queries.execute(new ListSyncRunStudentIdsQuery(id, 'issues')));
    response.status(200).type(csv ? 'text/csv; charset=utf-8' : 'application/json');
    if (csv) response.setHeader('Content-Disposition', `attachment; filename="sync-run-${id}-issues.csv"`);
    await streamBody(
      response,
      async (write) => {
        await write(csv ? RUN_ISSUE_CSV_HEADER : '[');
        let first = true;
        while (page.length > 0) {
          const chunk = page
            .map((issue) => {
              const dto = RunIssueDto.from(issue);
              if (csv) return runIssueCsvRow(dto);
              const json = (first ? '' : ',') + JSON.stringify(dto);
              first = false;
              return json;
            })
            .join('');
          await write(chunk);
          const lastId = page.at(-1)!.id;
          page =
            page.length < ISSUE_PAGE
              ? []
              : await this.queries.execute(new ListSyncRunIssuesQuery(id, ISSUE_PAGE, lastId));
        }
        if (!csv) await write(']');
      },
      (error) => this.logger.error({ err: error, runId: id }, 'A sync run issues export failed after it started'),
    );
  }

  @Post('runs/:id/approve')
  @Audited(syncRunAuditPolicy('sync_run.approve'))
  @ApiOperation({ summary: 'Approve a held run: it applies its changes' })
  @ApiAcceptedResponse({ type: SyncRunDto })
  @ApiProblems({
    404: ['SIS_SYNC.RUN_NOT_FOUND'],
    409: ['SIS_SYNC.RUN_STATE_CONFLICT'],
    503: ['QUEUE.UNAVAILABLE'],
  })
  @HttpCode(202)
  async approve(@CurrentUser() user: AuthenticatedUser, @Param('id', ParseUUIDPipe) id: string): Promise<SyncRunDto> {
    return SyncRunDto.from(await this.commands.execute(new ApproveSyncRunCommand(id, user.id)));
  }

  @Post('runs/:id/discard')
  @Audited(syncRunAuditPolicy('sync_run.discard'))
  @HttpCode(200)
  @ApiOperation({ summary: 'Discard a held run: nothing is applied' })
  @ApiOkResponse({ type: SyncRunDto })
  @ApiProblems({ 404: ['SIS_SYNC.RUN_NOT_FOUND'], 409: ['SIS_SYNC.RUN_STATE_CONFLICT'] })
  async discard(@Param('id', ParseUUIDPipe) id: string): Promise<SyncRunDto> {
    return SyncRunDto.from(await this.commands.execute(new DiscardSyncRunCommand(id)));
  }

  /** Reverts the run's changes (or with `undeleteOnly`, only its deactivations); later changes are kept. */
  @Post('runs/:id/restore')
  @Audited(syncRunAuditPolicy('sync_run.restore', 'sync_run', { from: 'handler' }))
  @HttpCode(200)
  @ApiOperation({ summary: "Revert a run's changes (or only its deactivations); later changes are kept" })
  @ApiOkResponse({ type: RestoreResultDto })
  @ApiProblems({ 404: ['SIS_SYNC.RUN_NOT_FOUND'], 409: ['SIS_SYNC.RUN_STATE_CONFLICT'] })
  async restore(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: RestoreSyncRunDto,
  ): Promise<RestoreResultDto> {
    const { run, summary } = await this.commands.execute(
      new RestoreSyncRunCommand(id, user.id, body.undeleteOnly ?? false),
    );
    // The listed conflicts name records by sourcedId: the entry names the students among them.
    const named = await this.queries.execute(
      new FindStudentIdsNamedByRecordsQuery(run.connectionId, summary.conflicts),
    );
    return withAuditSubjects({ run: SyncRunDto.from(run), ...summary }, named);
  }

  @Post('runs/:id/cancel')
  @Audited(syncRunAuditPolicy('sync_run.cancel'))
  @HttpCode(202)
  @ApiOperation({ summary: 'Cancel a queued or running run' })
  @ApiAcceptedResponse({ type: SyncRunDto })
  @ApiProblems({ 404: ['SIS_SYNC.RUN_NOT_FOUND'], 409: ['SIS_SYNC.RUN_STATE_CONFLICT'] })
  async cancel(@Param('id', ParseUUIDPipe) id: string): Promise<SyncRunDto> {
    return SyncRunDto.from(await this.commands.execute(new CancelSyncRunCommand(id)));
  }
}

async function looksLikeZip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    return bytesRead === 4 && buffer.readUInt32LE(0) === 0x04034b50;
  } finally {
    await handle.close();
  }
}
