import { Command, CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import { AuditChainReader } from '../ports/audit-chain.reader.port.js';
import { AuditCheckpointRepository } from '../ports/audit-checkpoint.repository.js';
import { AuditVerificationRepository, type AuditVerificationRecord } from '../ports/audit-verification.repository.js';
import { VerifyAuditChainQuery } from '../queries/verify-audit-chain.query.js';

/**
 * Verifies the chain from the newest signed checkpoint that the last successful verification covered up to the
 * tip, and records the result. The run starts from that checkpoint's signed head (and checks the stored entry
 * there still matches it), so entries rewritten on either side of the anchor show. Until a verification
 * passes again, each run goes back over the same range (and fails again, alerting again).
 */
export class RunAuditVerificationCommand extends Command<AuditVerificationRecord> {}

@CommandHandler(RunAuditVerificationCommand)
export class RunAuditVerificationHandler implements ICommandHandler<RunAuditVerificationCommand> {
  constructor(
    private readonly queries: QueryBus,
    private readonly checkpoints: AuditCheckpointRepository,
    private readonly chain: AuditChainReader,
    private readonly verifications: AuditVerificationRepository,
  ) {}

  async execute(): Promise<AuditVerificationRecord> {
    const lastGood = await this.verifications.latestSuccessful();
    const anchor = lastGood
      ? (await this.checkpoints.all()).findLast((checkpoint) => checkpoint.size <= lastGood.toSeq)
      : undefined;
    // The stored entry at the anchor must still be the one signed: if not, the whole chain is checked, which
    // names the entry that changed.
    const anchored = anchor && anchor.size > 0 && (await this.chain.hashAt(anchor.size))?.equals(anchor.head);
    const result = await this.queries.execute(
      new VerifyAuditChainQuery(anchored ? { fromSeq: anchor.size + 1, prevHash: anchor.head } : {}),
    );
    const record: AuditVerificationRecord = {
      verifiedAt: result.verifiedAt,
      ok: result.ok,
      fromSeq: result.fromSeq,
      toSeq: Math.max(result.toSeq, result.fromSeq - 1),
      checkedEntries: result.checkedEntries,
      firstBadSeq: result.firstBadSeq,
      problem: result.problem?.code ?? null,
    };
    await this.verifications.record(record);
    return record;
  }
}
