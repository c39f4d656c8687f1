import { AuditExempt, Audited, type AuditPolicy } from '@app/audit-capture';
import { ApiProblems } from '@app/http';
import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public, RequireRoles } from '../../../identity/index.js';
import { SignAuditCheckpointCommand } from '../../application/commands/sign-audit-checkpoint.command.js';
import { GetAuditPublicKeysQuery } from '../../application/queries/get-audit-public-keys.query.js';
import { ListAuditCheckpointsQuery } from '../../application/queries/list-audit-checkpoints.query.js';
import { VerifyAuditChainQuery } from '../../application/queries/verify-audit-chain.query.js';
import {
  ChainVerificationDto,
  CheckpointDto,
  CheckpointPageDto,
  ListCheckpointsQueryDto,
  PublicKeyDto,
  PublicKeysDto,
  VerifyChainQueryDto,
} from './audit-integrity.dtos.js';

/** Reading or vouching for the audit trail is itself an access to it. */
function integrityPolicy(action: string, resource: string, mode: AuditPolicy['mode']): AuditPolicy {
  return { action, resource, dataCategories: ['audit_trail'], subjects: { from: 'none' }, mode };
}

/** Integrity of the audit trail: signed checkpoints, verification of the chain, the keys that verify it. */
@ApiTags('audit')
@Controller('audit')
export class AuditIntegrityController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('checkpoints')
  @HttpCode(201)
  @ApiBearerAuth()
  @RequireRoles('compliance_officer', 'district_admin')
  @Audited(integrityPolicy('audit_checkpoint.sign', 'audit_checkpoint', 'write'))
  @ApiOperation({ summary: 'Sign a checkpoint of the chain now (they are also signed on a schedule)' })
  @ApiCreatedResponse({ type: CheckpointDto, description: 'The signed checkpoint' })
  @ApiProblems({ 409: ['AUDIT.CHECKPOINT_REFUSED'], 503: ['AUDIT.SIGNING_KEY_MISSING'] })
  async sign(): Promise<CheckpointDto> {
    const { checkpoint } = await this.commands.execute(new SignAuditCheckpointCommand('always'));
    return CheckpointDto.from(checkpoint);
  }

  @Get('checkpoints')
  @ApiBearerAuth()
  @RequireRoles('compliance_officer', 'district_admin')
  @Audited(integrityPolicy('audit_checkpoint.list', 'audit_checkpoint', 'read'))
  @ApiOperation({ summary: 'Signed checkpoints of the chain, newest first' })
  @ApiOkResponse({ type: CheckpointPageDto, description: 'Signed checkpoints, newest first' })
  @ApiProblems({ 400: ['AUDIT.INVALID_CURSOR'] })
  async list(@Query() query: ListCheckpointsQueryDto): Promise<CheckpointPageDto> {
    const page = await this.queries.execute(new ListAuditCheckpointsQuery(query.limit, query.cursor));
    return { items: page.items.map((checkpoint) => CheckpointDto.from(checkpoint)), nextCursor: page.nextCursor };
  }

  @Get('verify')
  @ApiBearerAuth()
  @RequireRoles('compliance_officer', 'district_admin')
  @Audited(integrityPolicy('audit.verify', 'audit_chain', 'read'))
  @ApiOperation({ summary: 'Verify the hash chain and every signed checkpoint (200 even when it fails)' })
  @ApiOkResponse({ type: ChainVerificationDto })
  @ApiProblems({ 400: ['AUDIT.INVALID_SEQ_RANGE'] })
  async verify(@Query() query: VerifyChainQueryDto): Promise<ChainVerificationDto> {
    const result = await this.queries.execute(
      new VerifyAuditChainQuery({ fromSeq: query.fromSeq, toSeq: query.toSeq }),
    );
    return ChainVerificationDto.from(result);
  }

  @Get('public-key')
  @Public()
  @AuditExempt('Public keys only: anyone may verify checkpoints, and no student data is involved')
  @ApiOperation({ summary: 'The Ed25519 public keys that verify checkpoints (current and previous)' })
  @ApiOkResponse({ type: PublicKeysDto })
  async publicKeys(): Promise<PublicKeysDto> {
    const keys = await this.queries.execute(new GetAuditPublicKeysQuery());
    return { keys: keys.map((key) => PublicKeyDto.from(key)) };
  }
}
