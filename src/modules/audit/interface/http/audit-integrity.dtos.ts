import {
  CHAIN_PROBLEM_CODES,
  checkpointLine,
  type ChainProblem,
  type CheckpointRecord,
  type PublishedAuditKey,
  type VerifiedCheckpoint,
} from '@app/audit-chain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import type { AuditChainVerification } from '../../application/queries/verify-audit-chain.query.js';
import { AuditLimitQueryDto } from './audit-trail.dtos.js';

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** A signed checkpoint, in exactly the shape of a `checkpoints.jsonl` line of an exported bundle. */
export class CheckpointDto {
  @ApiProperty({ example: 12 }) id!: number;
  @ApiProperty({ description: 'Tree size: the last seq covered (decimal string)', example: '4180' }) size!: string;
  @ApiProperty({ description: 'Base64 of the chain hash at seq = size (32 zero bytes when size is 0)' })
  head!: string;
  @ApiProperty({ description: 'When it was signed (ISO-8601 UTC)' }) time!: string;
  @ApiProperty({ description: 'Id of the signing key (see GET /audit/public-key)', example: '3f2a9c0d11e4b5a7' })
  keyId!: string;
  @ApiProperty({ description: 'The signed note (homeroom-audit-checkpoint/v1), UTF-8' }) body!: string;
  @ApiProperty({ description: 'Base64 Ed25519 signature over the body bytes' }) signature!: string;

  static from(checkpoint: CheckpointRecord): CheckpointDto {
    return JSON.parse(checkpointLine(checkpoint)) as CheckpointDto;
  }
}

export class CheckpointPageDto {
  @ApiProperty({ type: [CheckpointDto] }) items!: CheckpointDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class ListCheckpointsQueryDto extends AuditLimitQueryDto {
  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page, as given' })
  @IsOptional()
  @IsString()
  @Matches(/^[1-9]\d{0,15}$/, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;
}

export class VerifyChainQueryDto {
  @ApiPropertyOptional({ minimum: 1, description: 'First seq to check (default 1); links from the entry before' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_SEQ)
  fromSeq?: number;

  @ApiPropertyOptional({ minimum: 1, description: 'Last seq to check (default: the tip)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_SEQ)
  toSeq?: number;
}

export class ChainProblemDto {
  @ApiProperty({ enum: CHAIN_PROBLEM_CODES }) code!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ nullable: true, type: String, description: 'The seq the problem is at' }) seq!: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'The checkpoint concerned' }) checkpointId!: number | null;

  static from(problem: ChainProblem): ChainProblemDto {
    return {
      code: problem.code,
      message: problem.message,
      seq: problem.seq === undefined ? null : String(problem.seq),
      checkpointId: problem.checkpointId ?? null,
    };
  }
}

export class VerifiedCheckpointDto {
  @ApiProperty() id!: number;
  @ApiProperty() size!: string;
  @ApiProperty() head!: string;
  @ApiProperty() time!: string;
  @ApiProperty() keyId!: string;

  static from(checkpoint: VerifiedCheckpoint): VerifiedCheckpointDto {
    return {
      id: checkpoint.id,
      size: String(checkpoint.size),
      head: checkpoint.head.toString('base64'),
      time: checkpoint.time,
      keyId: checkpoint.keyId,
    };
  }
}

export class ChainVerificationDto {
  @ApiProperty({ description: 'false when any check failed (the response is still 200)' }) ok!: boolean;
  @ApiProperty({ description: 'Entries that passed every check' }) checkedEntries!: number;
  @ApiProperty({ description: 'Of those, entries whose text the retention purge removed' }) purgedEntries!: number;
  @ApiProperty({ nullable: true, type: String, description: 'First failing seq, when tied to an entry' })
  firstBadSeq!: string | null;
  @ApiProperty({ nullable: true, type: ChainProblemDto }) problem!: ChainProblemDto | null;
  @ApiProperty({ nullable: true, type: VerifiedCheckpointDto, description: 'Newest checkpoint the chain passed' })
  lastCheckpoint!: VerifiedCheckpointDto | null;
  @ApiProperty() fromSeq!: string;
  @ApiProperty() toSeq!: string;
  @ApiProperty() verifiedAt!: string;

  static from(result: AuditChainVerification): ChainVerificationDto {
    return {
      ok: result.ok,
      checkedEntries: result.checkedEntries,
      purgedEntries: result.purgedEntries,
      firstBadSeq: result.firstBadSeq === null ? null : String(result.firstBadSeq),
      problem: result.problem ? ChainProblemDto.from(result.problem) : null,
      lastCheckpoint: result.lastCheckpoint ? VerifiedCheckpointDto.from(result.lastCheckpoint) : null,
      fromSeq: String(result.fromSeq),
      toSeq: String(result.toSeq),
      verifiedAt: result.verifiedAt.toISOString(),
    };
  }
}

export class PublicKeyDto {
  @ApiProperty({ example: '3f2a9c0d11e4b5a7' }) keyId!: string;
  @ApiProperty({ enum: ['Ed25519'] }) algorithm!: 'Ed25519';
  @ApiProperty({ description: 'SPKI, PEM' }) publicKeyPem!: string;
  @ApiProperty({ description: 'The raw 32-byte key, base64' }) publicKey!: string;
  @ApiProperty({ description: 'Signs new checkpoints (the others still verify older ones)' }) current!: boolean;

  static from(key: PublishedAuditKey): PublicKeyDto {
    return { ...key };
  }
}

export class PublicKeysDto {
  @ApiProperty({ type: [PublicKeyDto] }) keys!: PublicKeyDto[];
}
