import { GetAuditIntegrityStatusQuery, type AuditIntegrityStatus } from '@app/contracts';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AuditCheckpointRepository } from '../ports/audit-checkpoint.repository.js';
import { AuditVerificationRepository } from '../ports/audit-verification.repository.js';

/** The newest checkpoint and verifications, for the operational metrics (the query is in @app/contracts). */
@QueryHandler(GetAuditIntegrityStatusQuery)
export class GetAuditIntegrityStatusHandler implements IQueryHandler<
  GetAuditIntegrityStatusQuery,
  AuditIntegrityStatus
> {
  constructor(
    private readonly checkpoints: AuditCheckpointRepository,
    private readonly verifications: AuditVerificationRepository,
  ) {}

  async execute(): Promise<AuditIntegrityStatus> {
    // One after the other: a scrape should hold one pooled connection, not three.
    const checkpoint = await this.checkpoints.latest();
    const last = await this.verifications.latest();
    const lastGood = last?.ok ? last : await this.verifications.latestSuccessful();
    return {
      lastCheckpointAt: checkpoint ? new Date(checkpoint.time) : null,
      lastVerification: last ? { at: last.verifiedAt, ok: last.ok, toSeq: last.toSeq } : null,
      lastSuccessfulVerificationAt: lastGood?.verifiedAt ?? null,
    };
  }
}
