import { csvRow } from '@app/csv';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import type { StoredRunIssue } from '../../application/ports/sync-run.repository.js';
import {
  SYNC_RUN_STATES,
  type PreviewEntry,
  type RunPreview,
  type SyncRun,
  type SyncRunState,
} from '../../domain/sync-run.js';

const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

/**
 * A `HoldReason`: a mass-change threshold that tripped, people whose ids the SIS remapped, or an entity whose
 * share of rejected records passed the `reject` limit.
 */
const HOLD_REASON_SCHEMA = {
  type: 'object',
  required: ['kind', 'entity', 'count'],
  properties: {
    kind: { type: 'string', enum: ['threshold', 'id_remap', 'rejected'] },
    entity: { type: 'string', example: 'people' },
    action: { type: 'string', enum: ['create', 'update', 'deactivate'], description: 'Threshold holds only' },
    count: {
      type: 'integer',
      minimum: 0,
      description: 'Records to change (threshold), re-keyed (id_remap) or rejected (rejected)',
    },
    pulled: { type: 'integer', minimum: 0, description: 'Rejected holds only: the records pulled, rejected included' },
    percent: {
      type: 'number',
      minimum: 0,
      maximum: 100,
      description: 'Rejected holds only: the rejected share of the pulled records, one decimal',
    },
    limit: {
      type: 'string',
      example: '10% of 250 active records',
      description: 'Threshold and rejected holds: the limit that was passed',
    },
  },
};

const RESTORE_CONFLICT_SCHEMA = {
  type: 'object',
  required: ['entity', 'sourcedId', 'changedByRun'],
  properties: {
    entity: { type: 'string', example: 'people' },
    sourcedId: { type: 'string' },
    changedByRun: { type: 'string', format: 'uuid', nullable: true, description: 'The run that changed it later' },
  },
};

export class StartSyncRunDto {
  @ApiPropertyOptional({ enum: ['full', 'delta'], default: 'delta' })
  @IsOptional()
  @IsIn(['full', 'delta'])
  mode?: 'full' | 'delta';

  @ApiPropertyOptional({ default: false, description: 'Compute the preview without applying anything' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;

  @ApiPropertyOptional({
    default: false,
    description: 'SIS values replace sticky local edits (which are cleared) in this run',
  })
  @IsOptional()
  @IsBoolean()
  remaster?: boolean;
}

export class RestoreSyncRunDto {
  @ApiPropertyOptional({ default: false, description: 'Only bring back what the run deactivated' })
  @IsOptional()
  @IsBoolean()
  undeleteOnly?: boolean;
}

export class ImportCsvFormDto {
  @ApiPropertyOptional({
    description: 'Mirror under this oneroster-csv connection; default: the shared CSV-upload connection',
  })
  @IsOptional()
  @IsUUID()
  connectionId?: string;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  dryRun?: boolean;
}

export class ListSyncRunsQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  connectionId?: string;

  @ApiPropertyOptional({ enum: SYNC_RUN_STATES })
  @IsOptional()
  @IsIn(SYNC_RUN_STATES)
  state?: SyncRunState;
}

export class RunAcceptedDto {
  @ApiProperty() runId!: string;
  @ApiProperty({ enum: SYNC_RUN_STATES }) state!: SyncRunState;
}

export class SyncRunDto {
  @ApiProperty() id!: string;
  @ApiProperty() connectionId!: string;
  @ApiProperty({
    enum: ['full', 'delta'],
    description:
      'As pulled: a delta run asked of a SIS without a changed-since query is full; a CSV package of delta files ' +
      'only is delta, one with any bulk file full',
  })
  mode!: string;
  @ApiProperty() dryRun!: boolean;
  @ApiProperty({ enum: ['manual', 'schedule', 'import', 'cli'] }) trigger!: string;
  @ApiProperty({ enum: SYNC_RUN_STATES }) state!: SyncRunState;
  @ApiProperty({ nullable: true, type: String }) requestedBy!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Which source and protocol the run read; a CSV import names the file as it was uploaded',
  })
  source!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Delta runs: records modified since this instant' })
  deltaSince!: string | null;
  @ApiProperty({
    description:
      'Per entity: pulled (records the source listed, rejected included), rejected (of them, refused by the source: ' +
      'unreadable or invalid, skipped and reported as issues), created, updated, restored, deactivated, unchanged, ' +
      'skipped (not applied: a reference is not an active record)',
  })
  counts!: Record<string, Record<string, number>>;
  @ApiProperty({
    nullable: true,
    description:
      'Held and dry runs: counts per entity and action (create, update, restore, deactivate, unchanged, and skip: ' +
      'records the apply would skip because a required reference is missing; the other counts leave them out); ' +
      'reading one run (GET /sis/runs/:id) adds sample sourcedIds, and its audit entry names the students they are',
  })
  preview!: unknown;
  @ApiProperty({ description: 'Why a run was held', type: 'array', items: HOLD_REASON_SCHEMA })
  holdReasons!: unknown[];
  @ApiProperty() issueCount!: number;
  @ApiProperty({ nullable: true, type: String }) errorCode!: string | null;
  @ApiProperty({ nullable: true, type: String }) errorMessage!: string | null;
  @ApiProperty() attempt!: number;
  @ApiProperty({ nullable: true, type: String }) approvedBy!: string | null;
  @ApiProperty({ nullable: true, type: String }) approvedAt!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) startedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) finishedAt!: string | null;
  @ApiProperty({ nullable: true, type: Number }) durationMs!: number | null;
  @ApiProperty() remaster!: boolean;
  @ApiProperty({ nullable: true, type: String }) restoredAt!: string | null;

  /**
   * Sample sourcedIds name students, so only the audited read of one run shows them (`samples: true`); lists
   * and the answers of steering calls carry counts only.
   */
  static from(run: SyncRun, { samples = false }: { samples?: boolean } = {}): SyncRunDto {
    return {
      id: run.id,
      connectionId: run.connectionId,
      mode: run.mode,
      dryRun: run.dryRun,
      trigger: run.trigger,
      state: run.state,
      requestedBy: run.requestedBy,
      source: run.sourceDescription,
      deltaSince: run.deltaSince?.toISOString() ?? null,
      counts: run.counts as Record<string, Record<string, number>>,
      preview: samples ? run.preview : previewCounts(run.preview),
      holdReasons: run.holdReasons,
      issueCount: run.issueCount,
      errorCode: run.errorCode,
      errorMessage: run.errorMessage,
      attempt: run.attempt,
      approvedBy: run.approvedBy,
      approvedAt: run.approvedAt?.toISOString() ?? null,
      createdAt: run.createdAt.toISOString(),
      startedAt: run.startedAt?.toISOString() ?? null,
      finishedAt: run.finishedAt?.toISOString() ?? null,
      durationMs: run.startedAt && run.finishedAt ? run.finishedAt.getTime() - run.startedAt.getTime() : null,
      remaster: run.remaster,
      restoredAt: run.restoredAt?.toISOString() ?? null,
    };
  }
}

export class SyncRunPageDto {
  @ApiProperty({ type: [SyncRunDto] }) items!: SyncRunDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class RunIssueDto {
  @ApiProperty() entity!: string;
  @ApiProperty({ nullable: true, type: String }) sourcedId!: string | null;
  @ApiProperty({ nullable: true, type: String }) field!: string | null;
  @ApiProperty({ enum: ['error', 'warning', 'conflict'] }) severity!: string;
  @ApiProperty() message!: string;

  static from(issue: StoredRunIssue): RunIssueDto {
    return {
      entity: issue.entity,
      sourcedId: issue.sourcedId,
      field: issue.field,
      severity: issue.severity,
      message: issue.message,
    };
  }
}

export const RUN_ISSUE_CSV_HEADER = 'entity,sourcedId,field,severity,message\r\n';

/** One issue as a line of the issues CSV export. */
export function runIssueCsvRow(dto: RunIssueDto): string {
  return csvRow([dto.entity, dto.sourcedId, dto.field, dto.severity, dto.message]);
}

export class RestoreResultDto {
  @ApiProperty({ type: SyncRunDto }) run!: SyncRunDto;
  @ApiProperty() undeleteOnly!: boolean;
  @ApiProperty({ description: 'Per entity: uncreated, reverted, undeleted, conflicts' }) counts!: unknown;
  @ApiProperty() conflictCount!: number;
  @ApiProperty({
    description: 'Records a later run changed, left as they are (first 500)',
    type: 'array',
    items: RESTORE_CONFLICT_SCHEMA,
  })
  conflicts!: unknown[];
}

/** The preview without its sample sourcedIds. */
function previewCounts(preview: RunPreview | null): Record<string, Omit<PreviewEntry, 'samples'>> | null {
  if (preview === null) return null;
  return Object.fromEntries(
    Object.entries(preview).map(([entity, entry]: [string, PreviewEntry]) => {
      const { samples: _samples, ...counts } = entry;
      return [entity, counts];
    }),
  );
}
