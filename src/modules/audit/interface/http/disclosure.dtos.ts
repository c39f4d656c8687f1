import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsIn, IsOptional } from 'class-validator';
import {
  DISCLOSURE_BASES,
  DISCLOSURE_PARTY_TYPES,
  type Disclosure,
  type DisclosureBasis,
  type DisclosureDraft,
  type DisclosurePartyType,
} from '../../domain/disclosure.js';

export class DisclosurePartyDto {
  @ApiProperty({ maxLength: 300, example: 'Northwest Evaluation Association' }) name!: string;
  @ApiProperty({ enum: DISCLOSURE_PARTY_TYPES }) type!: DisclosurePartyType;
}

export class RedisclosurePartyDto {
  @ApiProperty({ maxLength: 300 }) name!: string;
  @ApiProperty({ maxLength: 2000 }) legitimateInterest!: string;
}

export class EmergencyDto {
  @ApiProperty({ description: 'The articulable and significant threat (99.32(a)(5), 99.36)', maxLength: 2000 })
  threat!: string;
  @ApiProperty({ type: [String], description: 'Parties the information went to' }) recipients!: string[];
}

/**
 * A 99.32 disclosure record. Fields are declared for the documentation but only whitelisted here: missing or
 * malformed fields are reported together by the domain as a 422 `AUDIT.DISCLOSURE_INCOMPLETE` listing them,
 * not one at a time as a generic 400.
 */
export class RecordDisclosureDto implements DisclosureDraft {
  @ApiProperty({ type: [String], format: 'uuid', description: 'Students whose PII was disclosed' })
  @Allow()
  studentIds?: string[];

  @ApiProperty({ type: DisclosurePartyDto, description: 'Who requested or received the information' })
  @Allow()
  party?: DisclosurePartyDto;

  @ApiProperty({ enum: DISCLOSURE_BASES, description: 'The 99.31 exception (or consent) the disclosure rests on' })
  @Allow()
  basis?: DisclosureBasis;

  @ApiProperty({
    description: 'The legitimate interest the party had in the information',
    maxLength: 2000,
    example: "Scoring the district's fall reading assessment under contract",
  })
  @Allow()
  legitimateInterest?: string;

  @ApiProperty({ type: [String], example: ['attendance', 'grades'], description: 'What was disclosed' })
  @Allow()
  dataCategories?: string[];

  @ApiProperty({ format: 'date', example: '2026-11-20' })
  @Allow()
  disclosedOn?: string;

  @ApiPropertyOptional({ type: [RedisclosurePartyDto], description: '99.32(a)(4), when redisclosure is allowed' })
  @Allow()
  redisclosureParties?: RedisclosurePartyDto[];

  @ApiPropertyOptional({ type: EmergencyDto, description: 'Required when basis is health_safety_emergency' })
  @Allow()
  emergency?: EmergencyDto;

  @ApiPropertyOptional({ format: 'date-time', description: 'When the parent was notified (or notice attempted)' })
  @Allow()
  parentNotifiedAt?: string;
}

export class StudentDisclosuresQueryDto {
  @ApiPropertyOptional({
    enum: ['required', 'all'],
    default: 'all',
    description: '`required`: only what 99.32 requires recording; `all`: also the exempt bases (99.32(d))',
  })
  @IsOptional()
  @IsIn(['required', 'all'])
  scope?: 'required' | 'all';
}

export class DisclosureDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: [String] }) studentIds!: string[];
  @ApiProperty({ type: DisclosurePartyDto }) party!: DisclosurePartyDto;
  @ApiProperty({ enum: DISCLOSURE_BASES }) basis!: DisclosureBasis;
  @ApiProperty({ description: 'False for the bases 99.32(d) exempts from recording' }) recordRequired!: boolean;
  @ApiProperty() legitimateInterest!: string;
  @ApiProperty({ type: [String] }) dataCategories!: string[];
  @ApiProperty({ format: 'date' }) disclosedOn!: string;
  @ApiProperty({ type: [RedisclosurePartyDto] }) redisclosureParties!: RedisclosurePartyDto[];
  @ApiProperty({ type: EmergencyDto, nullable: true }) emergency!: EmergencyDto | null;
  @ApiProperty({ nullable: true, type: String }) parentNotifiedAt!: string | null;
  @ApiProperty({ format: 'uuid' }) recordedBy!: string;
  @ApiProperty() recordedAt!: string;

  static from(disclosure: Disclosure): DisclosureDto {
    return {
      id: disclosure.id,
      studentIds: disclosure.studentIds,
      party: disclosure.party,
      basis: disclosure.basis,
      recordRequired: disclosure.recordRequired,
      legitimateInterest: disclosure.legitimateInterest,
      dataCategories: disclosure.dataCategories,
      disclosedOn: disclosure.disclosedOn,
      redisclosureParties: disclosure.redisclosureParties,
      emergency: disclosure.emergency,
      parentNotifiedAt: disclosure.parentNotifiedAt?.toISOString() ?? null,
      recordedBy: disclosure.recordedBy,
      recordedAt: disclosure.recordedAt.toISOString(),
    };
  }

  /**
   * As the student's own record shows it: other students a disclosure also covered are left out (99.12: a
   * parent sees only the part about their child).
   */
  static forStudent(disclosure: Disclosure, studentId: string): DisclosureDto {
    return { ...DisclosureDto.from(disclosure), studentIds: [studentId] };
  }
}

export class StudentDisclosuresDto {
  @ApiProperty({ format: 'uuid' }) studentId!: string;
  @ApiProperty({ enum: ['required', 'all'] }) scope!: 'required' | 'all';
  @ApiProperty({ type: [DisclosureDto] }) items!: DisclosureDto[];
}
