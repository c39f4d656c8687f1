import { Command, CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import { AuditCheckpointRepository } from '../ports/audit-checkpoint.repository.js';
import { AuditVerificationRepository, type AuditVerificationRecord } from '../ports/audit-verification.repository.js';
import { VerifyAuditChainQuery } from '../queries/verify-audit-chain.query.js';

/**
 * Verifies the chain from the newest signed checkpoint that the last successful verification covered up to the
 * tip, and records the result. The run starts from that checkpoint's signed head, not from the stored hash
 * before it, so rewriting the last verified entry still breaks the link. Until a verification passes again,
 * each run goes back over the same range (and fails again, alerting again).
 */
export class RunAuditVerificationCommand extends Command<AuditVerificationRecord> {}

@CommandHandler(RunAuditVerificationCommand)
export class RunAuditVerificationHandler implements ICommandHandler<RunAuditVerificationCommand> {
  constructor(
    private readonly queries: QueryBus,
    private readonly checkpoints: AuditCheckpointRepository,
    private readonly verifications: AuditVerificationRepository,
  ) {}

  async execute(): Promise<AuditVerificationRecord> {
    const lastGood = await this.verifications.latestSuccessful();
    const anchor = lastGood
      ? (await this.checkpoints.all()).findLast((checkpoint) => checkpoint.size <= lastGood.toSeq)
      : undefined;
    const fromSeq = anchor && anchor.size > 0 ? anchor.size + 1 : 1;
    const result = await this.queries.execute(
      new VerifyAuditChainQuery(fromSeq > 1 && anchor ? { fromSeq, prevHash: anchor.head } : {}),
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
