import type { PublishedAuditKey } from '@app/audit-chain';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { CheckpointSigner } from '../ports/checkpoint-signer.port.js';

/** The public keys that verify this deployment's checkpoints: the current one and the previous ones. */
export class GetAuditPublicKeysQuery extends Query<PublishedAuditKey[]> {}

@QueryHandler(GetAuditPublicKeysQuery)
export class GetAuditPublicKeysHandler implements IQueryHandler<GetAuditPublicKeysQuery, PublishedAuditKey[]> {
  constructor(private readonly signer: CheckpointSigner) {}

  execute(): Promise<PublishedAuditKey[]> {
    return Promise.resolve(this.signer.publishedKeys());
  }
}
