import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AuditQueryRangeError } from '../../domain/audit-records.errors.js';
import { decodeSeqCursor, pageSize } from '../audit-cursor.js';
import { AuditProjector } from '../ports/audit-projector.port.js';
import {
  AuditTrailReadModel,
  type AuditEventFilter,
  type AuditEventRecord,
} from '../ports/audit-trail-read-model.port.js';

export interface AuditEventListPage {
  items: AuditEventRecord[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export interface AuditEventListOptions {
  cursor?: string;
  limit?: number;
  /** Newest first by default; exports read oldest first. */
  order?: 'asc' | 'desc';
  /**
   * Bring the read models up to date first (the default), so an access shows up as soon as it happened.
   * An export does it once, before its first page.
   */
  catchUp?: boolean;
  /** Exports read bigger pages than the API hands out. */
  maxLimit?: number;
}

/** Audit entries matching the filters, a page at a time (keyset on the chain position). */
export class ListAuditEventsQuery extends Query<AuditEventListPage> {
  constructor(
    readonly filter: AuditEventFilter,
    readonly options: AuditEventListOptions = {},
  ) {
    super();
  }
}

@QueryHandler(ListAuditEventsQuery)
export class ListAuditEventsHandler implements IQueryHandler<ListAuditEventsQuery> {
  constructor(
    private readonly trail: AuditTrailReadModel,
    private readonly projector: AuditProjector,
  ) {}

  async execute({ filter, options }: ListAuditEventsQuery): Promise<AuditEventListPage> {
    if (filter.from && filter.to && filter.from >= filter.to) throw new AuditQueryRangeError();
    const limit = pageSize(options.limit, options.maxLimit);
    const after = decodeSeqCursor(options.cursor);
    if (options.catchUp ?? true) await this.projector.catchUp();
    const rows = await this.trail.listEvents(filter, { after, order: options.order ?? 'desc', limit: limit + 1 });
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items.at(-1)!.seq : null };
  }
}
