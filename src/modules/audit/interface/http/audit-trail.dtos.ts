import { RequestValidationError } from '@app/http';
import { ApiProperty, ApiPropertyOptional, IntersectionType, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE } from '../../application/audit-cursor.js';
import type { ActorAccessPage, ActorStudentAccessView } from '../../application/queries/get-actor-access.query.js';
import type { AuditEventFilter, AuditEventRecord } from '../../application/ports/audit-trail-read-model.port.js';
import { AUDIT_OUTCOMES, parseAuditEntry, type AuditEntry, type AuditOutcome } from '../../domain/audit-entry.js';

const ACTION = /^[a-z][a-z0-9_.-]{0,99}$/;

/** The page size every audit listing takes. */
export class AuditLimitQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_AUDIT_PAGE, default: DEFAULT_AUDIT_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_AUDIT_PAGE)
  limit?: number;
}

/** The time window and page every trail listing takes. */
export class AuditWindowQueryDto {
  @ApiPropertyOptional({ description: 'Entries at or after this instant (ISO 8601)', example: '2026-09-01T00:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Entries before this instant (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class AuditPageQueryDto extends IntersectionType(AuditWindowQueryDto, AuditLimitQueryDto) {
  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page, as given' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  cursor?: string;
}

/** Filters shared by the trail listing and the export. */
export class AuditFilterQueryDto extends AuditWindowQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Entries that name this student' })
  @IsOptional()
  @IsUUID('all')
  studentId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Entries of this signed-in user' })
  @IsOptional()
  @IsUUID('all')
  actorId?: string;

  @ApiPropertyOptional({ example: 'student.read' })
  @IsOptional()
  @Matches(ACTION, { message: 'action must look like resource.verb (lowercase)' })
  action?: string;

  @ApiPropertyOptional({ enum: AUDIT_OUTCOMES })
  @IsOptional()
  @IsIn(AUDIT_OUTCOMES)
  outcome?: AuditOutcome;
}

export class ListAuditEventsQueryDto extends IntersectionType(AuditFilterQueryDto, AuditLimitQueryDto) {
  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page, as given' })
  @IsOptional()
  @Matches(/^[1-9]\d{0,18}$/, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;
}

export class ExportAuditEventsQueryDto extends AuditFilterQueryDto {
  @ApiPropertyOptional({ enum: ['jsonl', 'csv'], default: 'jsonl' })
  @IsOptional()
  @IsIn(['jsonl', 'csv'])
  format?: 'jsonl' | 'csv';
}

export class StudentAccessQueryDto extends IntersectionType(
  AuditPageQueryDto,
  PickType(AuditFilterQueryDto, ['actorId', 'action', 'outcome']),
) {}

export class ActorAccessQueryDto extends AuditPageQueryDto {
  @ApiPropertyOptional({
    enum: ['grouped', 'flat'],
    default: 'grouped',
    description: '`grouped`: one row per student; `flat`: every entry, newest first',
  })
  @IsOptional()
  @IsIn(['grouped', 'flat'])
  view?: 'grouped' | 'flat';
}

/** ISO 8601 that `@IsISO8601` let through but `Date` cannot place (e.g. week dates) is still the client's fault. */
export function toInstant(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new RequestValidationError([{ field, messages: [`${field} must be a date-time`] }]);
  return new Date(time);
}

export function toWindow(query: AuditWindowQueryDto): { from?: Date; to?: Date } {
  return { from: toInstant(query.from, 'from'), to: toInstant(query.to, 'to') };
}

export function toFilter(query: AuditFilterQueryDto): AuditEventFilter {
  return {
    studentId: query.studentId?.toLowerCase(),
    actorId: query.actorId?.toLowerCase(),
    action: query.action,
    outcome: query.outcome,
    ...toWindow(query),
  };
}

export class AuditActorDto {
  @ApiProperty({ enum: ['user', 'system'] }) type!: 'user' | 'system';
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) id!: string | null;
  @ApiProperty({ type: [String] }) roles!: string[];
  @ApiProperty({ type: [String] }) schoolIds!: string[];
}

export class AuditResourceDto {
  @ApiProperty() type!: string;
  @ApiProperty({ nullable: true, type: String }) id!: string | null;
}

export class AuditOriginDto {
  @ApiProperty({ enum: ['http', 'socket', 'cli', 'job'] }) channel!: string;
  @ApiProperty({ nullable: true, type: String }) requestId!: string | null;
  @ApiProperty({ nullable: true, type: String }) clientIp!: string | null;
  @ApiProperty({ nullable: true, type: String }) userAgent!: string | null;
  @ApiProperty({ nullable: true, type: String }) route!: string | null;
}

/** One entry of the trail, as stored (entry version `v`), with its position in the chain. */
export class AuditEventDto {
  @ApiProperty({ description: 'Position in the hash chain (decimal string)' }) seq!: string;
  @ApiProperty() v!: number;
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() occurredAt!: string;
  @ApiProperty({ example: 'student.read' }) action!: string;
  @ApiProperty({ type: AuditResourceDto }) resource!: AuditResourceDto;
  @ApiProperty({ type: AuditActorDto }) actor!: AuditActorDto;
  @ApiProperty({ type: [String] }) studentIds!: string[];
  @ApiProperty({ type: [String] }) dataCategories!: string[];
  @ApiProperty({ nullable: true, type: String }) purpose!: string | null;
  @ApiProperty({ enum: AUDIT_OUTCOMES }) outcome!: AuditOutcome;
  @ApiProperty({ nullable: true, type: String, description: 'Stable error code of a denied or failed access' })
  reason!: string | null;
  @ApiProperty({ type: AuditOriginDto }) origin!: AuditOriginDto;
  @ApiProperty({ type: Object }) details!: Record<string, unknown>;

  static from(record: AuditEventRecord): AuditEventDto {
    const entry: AuditEntry = parseAuditEntry(record.text);
    return { seq: record.seq, ...entry };
  }
}

export class AuditEventPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items!: AuditEventDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

/** One access to a student's records: who, when, what, with which outcome, why, and from where. */
export class StudentAccessDto {
  @ApiProperty() seq!: string;
  @ApiProperty() occurredAt!: string;
  @ApiProperty({ type: AuditActorDto }) actor!: AuditActorDto;
  @ApiProperty() action!: string;
  @ApiProperty({ type: AuditResourceDto }) resource!: AuditResourceDto;
  @ApiProperty({ type: [String] }) dataCategories!: string[];
  @ApiProperty({ enum: AUDIT_OUTCOMES }) outcome!: AuditOutcome;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ nullable: true, type: String }) purpose!: string | null;
  @ApiProperty({ nullable: true, type: String }) requestId!: string | null;
  @ApiProperty({ nullable: true, type: String }) clientIp!: string | null;
  @ApiProperty({ nullable: true, type: String }) userAgent!: string | null;
  @ApiProperty({ nullable: true, type: String }) route!: string | null;
  @ApiProperty({ enum: ['http', 'socket', 'cli', 'job'] }) channel!: string;

  static from(record: AuditEventRecord): StudentAccessDto {
    const entry = parseAuditEntry(record.text);
    return {
      seq: record.seq,
      occurredAt: entry.occurredAt,
      actor: entry.actor,
      action: entry.action,
      resource: entry.resource,
      dataCategories: entry.dataCategories,
      outcome: entry.outcome,
      reason: entry.reason,
      purpose: entry.purpose,
      requestId: entry.origin.requestId,
      clientIp: entry.origin.clientIp,
      userAgent: entry.origin.userAgent,
      route: entry.origin.route,
      channel: entry.origin.channel,
    };
  }
}

export class StudentAccessPageDto {
  @ApiProperty({ format: 'uuid' }) studentId!: string;
  @ApiProperty({ type: [StudentAccessDto] }) items!: StudentAccessDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class ActorStudentAccessDto {
  @ApiProperty({ format: 'uuid' }) studentId!: string;
  @ApiProperty() accesses!: number;
  @ApiProperty() denied!: number;
  @ApiProperty() firstAt!: string;
  @ApiProperty() lastAt!: string;
  @ApiProperty({ type: [String] }) actions!: string[];
  @ApiProperty({
    nullable: true,
    type: Boolean,
    description: 'None of the student’s current schools is among the actor’s; null for district-wide actors',
  })
  outsideActorSchools!: boolean | null;

  static from(view: ActorStudentAccessView): ActorStudentAccessDto {
    return {
      studentId: view.studentId,
      accesses: view.accesses,
      denied: view.denied,
      firstAt: view.firstAt.toISOString(),
      lastAt: view.lastAt.toISOString(),
      actions: view.actions,
      outsideActorSchools: view.outsideActorSchools,
    };
  }
}

export class ActorSummaryDto {
  @ApiProperty({ type: [String] }) roles!: string[];
  @ApiProperty({ type: [String] }) schoolIds!: string[];
}

export class ActorAccessPageDto {
  @ApiProperty({ format: 'uuid' }) actorId!: string;
  @ApiProperty({ enum: ['grouped', 'flat'] }) view!: 'grouped' | 'flat';
  @ApiProperty({ nullable: true, type: ActorSummaryDto, description: 'As the latest entry in the window recorded' })
  actor!: ActorSummaryDto | null;
  @ApiProperty({ type: [ActorStudentAccessDto], required: false, description: 'grouped view' })
  students?: ActorStudentAccessDto[];
  @ApiProperty({ type: [AuditEventDto], required: false, description: 'flat view' })
  items?: AuditEventDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;

  static grouped(actorId: string, page: ActorAccessPage): ActorAccessPageDto {
    return {
      actorId,
      view: 'grouped',
      actor: page.actor,
      students: page.items.map((item) => ActorStudentAccessDto.from(item)),
      nextCursor: page.nextCursor,
    };
  }
}
