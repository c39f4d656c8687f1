import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { SisConnection } from '../../domain/sis-connection.js';
import { SisConnectionRepository } from '../ports/sis-connection.repository.js';

/** Every live connection, by name (a district has a handful; no paging). */
export class ListConnectionsQuery extends Query<SisConnection[]> {}

@QueryHandler(ListConnectionsQuery)
export class ListConnectionsHandler implements IQueryHandler<ListConnectionsQuery, SisConnection[]> {
  constructor(private readonly connections: SisConnectionRepository) {}

  execute(): Promise<SisConnection[]> {
    return this.connections.list();
  }
}
