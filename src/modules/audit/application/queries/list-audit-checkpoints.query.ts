import type { CheckpointRecord } from '@app/audit-chain';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { InvalidAuditCursorError, pageSize } from '../audit-cursor.js';
import { AuditCheckpointRepository } from '../ports/audit-checkpoint.repository.js';

export interface CheckpointPage {
  items: CheckpointRecord[];
  nextCursor: string | null;
}

/** Signed checkpoints, newest first; the cursor is the id of the last one handed out. */
export class ListAuditCheckpointsQuery extends Query<CheckpointPage> {
  constructor(
    readonly limit?: number,
    readonly cursor?: string,
  ) {
    super();
  }
}

@QueryHandler(ListAuditCheckpointsQuery)
export class ListAuditCheckpointsHandler implements IQueryHandler<ListAuditCheckpointsQuery, CheckpointPage> {
  constructor(private readonly checkpoints: AuditCheckpointRepository) {}

  async execute({ limit, cursor }: ListAuditCheckpointsQuery): Promise<CheckpointPage> {
    const size = pageSize(limit);
    if (cursor !== undefined && !/^[1-9]\d{0,15}$/.test(cursor)) throw new InvalidAuditCursorError();
    const rows = await this.checkpoints.page(size + 1, cursor === undefined ? undefined : Number(cursor));
    const items = rows.slice(0, size);
    return { items, nextCursor: rows.length > size ? String(items[items.length - 1].id) : null };
  }
}
