import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { AuditLimitQueryDto } from './audit-trail.dtos.js';
import { isActive, MAX_HOLD_REASON, type LegalHold } from '../../domain/legal-hold.js';

const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

export class PlaceLegalHoldDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all')
  studentId!: string;

  @ApiProperty({ maxLength: MAX_HOLD_REASON, example: 'Inspection request of 2026-11-20 (ticket 4411)' })
  @IsString()
  @MaxLength(MAX_HOLD_REASON)
  reason!: string;
}

export class ListLegalHoldsQueryDto extends AuditLimitQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all')
  studentId?: string;

  @ApiPropertyOptional({ description: '`true`: only active holds; `false`: only released ones' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page, as given' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class LegalHoldDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) studentId!: string;
  @ApiProperty() reason!: string;
  @ApiProperty() active!: boolean;
  @ApiProperty({ format: 'uuid' }) placedBy!: string;
  @ApiProperty() placedAt!: string;
  @ApiProperty({ nullable: true, type: String }) releasedBy!: string | null;
  @ApiProperty({ nullable: true, type: String }) releasedAt!: string | null;

  static from(hold: LegalHold): LegalHoldDto {
    return {
      id: hold.id,
      studentId: hold.studentId,
      reason: hold.reason,
      active: isActive(hold),
      placedBy: hold.placedBy,
      placedAt: hold.placedAt.toISOString(),
      releasedBy: hold.releasedBy,
      releasedAt: hold.releasedAt?.toISOString() ?? null,
    };
  }
}

export class LegalHoldPageDto {
  @ApiProperty({ type: [LegalHoldDto] }) items!: LegalHoldDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
