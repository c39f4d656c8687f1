import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AuditSeqRangeError } from '../../domain/audit-integrity.errors.js';
import { AuditProjector } from '../ports/audit-projector.port.js';
import {
  AuditReadModelVerifier,
  type ReadModelRange,
  type ReadModelVerification,
} from '../ports/audit-read-model-verifier.port.js';

export class VerifyAuditReadModelsQuery extends Query<ReadModelVerification> {
  constructor(readonly range: ReadModelRange = {}) {
    super();
  }
}

/**
 * Checks the read models (access by student, by actor, denied accesses, disclosure log) against the log for
 * fromSeq..toSeq: brought up to date first, then each projection recomputed and compared row by row; the
 * first difference is reported. Changes nothing.
 */
@QueryHandler(VerifyAuditReadModelsQuery)
export class VerifyAuditReadModelsHandler implements IQueryHandler<VerifyAuditReadModelsQuery, ReadModelVerification> {
  constructor(
    private readonly projector: AuditProjector,
    private readonly verifier: AuditReadModelVerifier,
  ) {}

  async execute({ range }: VerifyAuditReadModelsQuery): Promise<ReadModelVerification> {
    if (range.toSeq !== undefined && range.toSeq < (range.fromSeq ?? 1)) throw new AuditSeqRangeError();
    await this.projector.catchUp();
    return this.verifier.verify(range);
  }
}
