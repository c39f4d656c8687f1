import { buildCheckpointBody, GENESIS_HASH, type ChainVerification, type CheckpointRecord } from '@app/audit-chain';
import { Clock } from '@app/ddd';
import { TransactionRunner } from '@app/persistence';
import { Command, CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { AuditConfig } from '../../../../config/index.js';
import { AuditCheckpointRefusedError } from '../../domain/audit-integrity.errors.js';
import { AuditVerificationFailedEvent } from '../audit-verification-failed.event.js';
import { AuditChainReader } from '../ports/audit-chain.reader.port.js';
import { AuditCheckpointRepository } from '../ports/audit-checkpoint.repository.js';
import { AuditMetrics } from '../ports/audit-metrics.port.js';
import { CheckpointSigner } from '../ports/checkpoint-signer.port.js';
import { verifyStoredChain } from '../stored-chain-verification.js';

/**
 * - `always`: sign now (on demand);
 * - `due`: sign unless the last checkpoint is younger than the configured interval (the schedule runs every
 *   minute and signs even when nothing was appended, so silence is provable);
 * - `uncovered`: sign unless the last checkpoint already covers the tip (before an export).
 */
export type CheckpointWhen = 'always' | 'due' | 'uncovered';

export interface SignedCheckpoint {
  checkpoint: CheckpointRecord;
  /** False when `when` found the last checkpoint good enough and returned it. */
  created: boolean;
}

/**
 * A verification of the whole chain up to `verification.lastSeq` (1..lastSeq against every stored checkpoint)
 * that the caller has just made while reading the chain for its own purpose (an export), and the hash it found
 * there. Given one, the signer signs exactly that prefix instead of verifying the chain a second time; a failed
 * one is refused like a failed verification of the signer's own.
 */
export interface VerifiedChainPrefix {
  verification: ChainVerification;
  /** The hash at verification.lastSeq that the verification reached (null when it failed). */
  head: Buffer | null;
}

export class SignAuditCheckpointCommand extends Command<SignedCheckpoint> {
  constructor(
    readonly when: CheckpointWhen = 'always',
    readonly verified?: VerifiedChainPrefix,
  ) {
    super();
  }
}

/** The cron fires on the minute; this much slack keeps an hourly interval from slipping a minute each hour. */
const SCHEDULE_SLACK_MS = 30_000;

/**
 * Signs checkpoint N+1 over the current tip: size = the last committed seq, head = the hash stored at that seq
 * (read together from one row, so they always match), prev = checkpoint N's signature. Signers take turns
 * under an advisory lock. Before signing it checks that the chain still reaches checkpoint N's size and passes
 * through its head, and that the whole chain up to the tip verifies, and refuses otherwise: a signer must not
 * vouch for a rewritten, truncated or altered trail. Given a `verified` prefix (an export verifies what it
 * reads), it signs that prefix instead of the tip, unless a checkpoint already covers it, and does not verify the
 * chain again: it checks that the hash stored at the prefix's end is still the one the verification reached.
 */
@CommandHandler(SignAuditCheckpointCommand)
export class SignAuditCheckpointHandler implements ICommandHandler<SignAuditCheckpointCommand, SignedCheckpoint> {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly checkpoints: AuditCheckpointRepository,
    private readonly chain: AuditChainReader,
    private readonly signer: CheckpointSigner,
    private readonly config: AuditConfig,
    private readonly clock: Clock,
    private readonly metrics: AuditMetrics,
    private readonly events: EventBus,
  ) {}

  async execute({ when, verified }: SignAuditCheckpointCommand): Promise<SignedCheckpoint> {
    const keyId = this.signer.currentKeyId();
    let signed: SignedCheckpoint;
    try {
      if (verified && !verified.verification.ok) await this.refuse(verified.verification);
      signed = await this.transactions.run(async () => {
        await this.checkpoints.lockForSigning();
        const previous = await this.checkpoints.latest();
        const tip = verified ? await this.verifiedTip(verified) : await this.chain.tip();
        const now = this.clock.now();
        if (previous && (verified ? previous.size >= tip.seq : this.stillGood(previous, when, tip.seq, now))) {
          return { checkpoint: previous, created: false };
        }
        if (previous) await this.assertConsistent(previous, tip);
        if (!verified) await this.assertVerifies(tip.seq);
        const fields = {
          origin: this.config.origin,
          id: (previous?.id ?? 0) + 1,
          size: tip.seq,
          head: tip.hash,
          time: now.toISOString(),
          prev: previous?.signature ?? null,
          keyId,
        };
        const body = buildCheckpointBody(fields);
        const checkpoint: CheckpointRecord = {
          id: fields.id,
          size: fields.size,
          head: fields.head,
          time: fields.time,
          keyId,
          body,
          signature: this.signer.sign(body),
        };
        await this.checkpoints.insert(checkpoint);
        return { checkpoint, created: true };
      });
    } catch (error) {
      if (error instanceof AuditCheckpointRefusedError) {
        this.events.publish(
          new AuditVerificationFailedEvent(
            error.firstBadSeq === null ? null : String(error.firstBadSeq),
            error.problem,
            this.clock.now(),
          ),
        );
      }
      throw error;
    }
    if (signed.created) this.metrics.checkpointSigned(new Date(signed.checkpoint.time));
    return signed;
  }

  private stillGood(previous: CheckpointRecord, when: CheckpointWhen, tipSeq: number, now: Date): boolean {
    switch (when) {
      case 'always':
        return false;
      case 'uncovered':
        return previous.size === tipSeq;
      case 'due':
        return (
          now.getTime() - Date.parse(previous.time) < this.config.checkpointIntervalMinutes * 60_000 - SCHEDULE_SLACK_MS
        );
    }
  }

  /**
   * The whole chain up to the tip must verify (links, hashes, texts, the columns beside them, every stored
   * checkpoint) before a checkpoint vouches for it: an entry altered after an earlier checkpoint covered it is
   * refused too. Run under the signing lock, so the next signer finds this checkpoint or none.
   */
  private async assertVerifies(tipSeq: number): Promise<void> {
    const result = await verifyStoredChain(this.chain, {
      lastSeq: tipSeq,
      toSeq: tipSeq,
      checkpoints: await this.checkpoints.all(),
      publicKeys: this.signer.publishedKeys().map((key) => key.publicKeyPem),
    });
    if (!result.ok) await this.refuse(result);
  }

  private async refuse(result: ChainVerification): Promise<never> {
    if (!result.problem) throw new Error('A failed chain verification names no problem');
    const previous = await this.checkpoints.latest();
    throw new AuditCheckpointRefusedError(
      result.problem.code,
      result.firstBadSeq,
      previous?.id ?? null,
      result.problem.message,
    );
  }

  /**
   * The prefix the caller verified, as its tip, once the stored hash there is still the one the verification
   * reached: a chain rewritten since then is refused rather than signed.
   */
  private async verifiedTip({ verification, head }: VerifiedChainPrefix): Promise<{ seq: number; hash: Buffer }> {
    const seq = verification.lastSeq;
    const stored = seq === 0 ? GENESIS_HASH : await this.chain.hashAt(seq);
    if (!head || !stored?.equals(head)) {
      const previous = await this.checkpoints.latest();
      throw new AuditCheckpointRefusedError(
        'AUDIT_CHAIN.HASH_MISMATCH',
        seq,
        previous?.id ?? null,
        `the hash stored at entry ${seq} changed after the chain up to it was verified`,
      );
    }
    return { seq, hash: stored };
  }

  private async assertConsistent(previous: CheckpointRecord, tip: { seq: number; hash: Buffer }): Promise<void> {
    if (tip.seq < previous.size) {
      throw new AuditCheckpointRefusedError('AUDIT_CHAIN.TRUNCATED', tip.seq + 1, previous.id);
    }
    const head =
      previous.size === 0
        ? GENESIS_HASH
        : previous.size === tip.seq
          ? tip.hash
          : await this.chain.hashAt(previous.size);
    if (!head?.equals(previous.head)) {
      throw new AuditCheckpointRefusedError('AUDIT_CHAIN.CHECKPOINT_HEAD_MISMATCH', previous.size, previous.id);
    }
  }
}
