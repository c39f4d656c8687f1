import { GENESIS_HASH, type ChainVerification, type CheckpointRecord } from '@app/audit-chain';
import { Clock } from '@app/ddd';
import { EventBus, Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AuditSeqRangeError } from '../../domain/audit-integrity.errors.js';
import { AuditVerificationFailedEvent } from '../audit-verification-failed.event.js';
import { AuditChainReader } from '../ports/audit-chain.reader.port.js';
import { AuditCheckpointRepository } from '../ports/audit-checkpoint.repository.js';
import { AuditMetrics } from '../ports/audit-metrics.port.js';
import { CheckpointSigner } from '../ports/checkpoint-signer.port.js';
import { verifyStoredChain } from '../stored-chain-verification.js';

export interface AuditChainVerification extends ChainVerification {
  fromSeq: number;
  /** The last seq the check covered: toSeq if given, else the tip when it started. */
  toSeq: number;
  verifiedAt: Date;
}

export interface VerifyAuditChainOptions {
  fromSeq?: number;
  toSeq?: number;
  /**
   * The hash before fromSeq, when the caller holds one it trusts more than the stored hash (a signed
   * checkpoint's head): a rewritten hash at fromSeq - 1 then shows as a broken link.
   */
  prevHash?: Buffer;
  /**
   * Checkpoints held outside the database (e.g. from an earlier export). A superuser can rewrite the chain and
   * delete the checkpoints stored beside it, but cannot re-sign these: the chain must still pass through them.
   */
  externalCheckpoints?: readonly CheckpointRecord[];
  /** Entries checked per statement (default 100,000). */
  rangeEntries?: number;
}

export class VerifyAuditChainQuery extends Query<AuditChainVerification> {
  constructor(readonly options: VerifyAuditChainOptions = {}) {
    super();
  }
}

/**
 * Verifies the stored chain (all of it, or fromSeq..toSeq starting from the stored hash before fromSeq)
 * against every signed checkpoint and the published keys. Checkpoints are read before the tip, so each honest
 * one lies within what is read; entries appended meanwhile are left for the next run.
 */
@QueryHandler(VerifyAuditChainQuery)
export class VerifyAuditChainHandler implements IQueryHandler<VerifyAuditChainQuery, AuditChainVerification> {
  constructor(
    private readonly chain: AuditChainReader,
    private readonly checkpoints: AuditCheckpointRepository,
    private readonly signer: CheckpointSigner,
    private readonly metrics: AuditMetrics,
    private readonly events: EventBus,
    private readonly clock: Clock,
  ) {}

  async execute({ options }: VerifyAuditChainQuery): Promise<AuditChainVerification> {
    const fromSeq = options.fromSeq ?? 1;
    if (options.toSeq !== undefined && options.toSeq < fromSeq) throw new AuditSeqRangeError();
    const stored = await this.checkpoints.all();
    const tip = await this.chain.tip();
    const toSeq = options.toSeq ?? tip.seq;
    const prevHash =
      options.prevHash ?? (fromSeq === 1 ? GENESIS_HASH : ((await this.chain.hashAt(fromSeq - 1)) ?? undefined));
    const result = await verifyStoredChain(this.chain, {
      lastSeq: tip.seq,
      rangeEntries: options.rangeEntries,
      checkpoints: [...stored, ...(options.externalCheckpoints ?? [])],
      publicKeys: this.signer.publishedKeys().map((key) => key.publicKeyPem),
      fromSeq,
      prevHash,
      toSeq: options.toSeq,
    });
    const verifiedAt = this.clock.now();
    this.metrics.verified({ ok: result.ok, at: verifiedAt });
    if (!result.ok && result.problem) {
      this.events.publish(
        new AuditVerificationFailedEvent(
          result.firstBadSeq === null ? null : String(result.firstBadSeq),
          result.problem.code,
          verifiedAt,
        ),
      );
    }
    return { ...result, fromSeq, toSeq, verifiedAt };
  }
}
