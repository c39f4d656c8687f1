import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { LegalHold } from '../../domain/legal-hold.js';
import { decodeTimeIdCursor, encodeTimeIdCursor, pageSize } from '../audit-cursor.js';
import { LegalHoldRepository, type LegalHoldFilter } from '../ports/legal-hold.repository.js';

export interface LegalHoldPage {
  items: LegalHold[];
  nextCursor: string | null;
}

/** Legal holds, newest first, optionally for one student and/or only active (or only released) ones. */
export class ListLegalHoldsQuery extends Query<LegalHoldPage> {
  constructor(
    readonly filter: LegalHoldFilter,
    readonly page: { cursor?: string; limit?: number } = {},
  ) {
    super();
  }
}

@QueryHandler(ListLegalHoldsQuery)
export class ListLegalHoldsHandler implements IQueryHandler<ListLegalHoldsQuery> {
  constructor(private readonly holds: LegalHoldRepository) {}

  async execute({ filter, page }: ListLegalHoldsQuery): Promise<LegalHoldPage> {
    const limit = pageSize(page.limit);
    const after = decodeTimeIdCursor(page.cursor);
    const rows = await this.holds.list(
      { ...filter, studentId: filter.studentId?.toLowerCase() },
      after && { placedAt: after.at, id: after.id },
      limit + 1,
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeTimeIdCursor(last.placedAt, last.id) : null };
  }
}
