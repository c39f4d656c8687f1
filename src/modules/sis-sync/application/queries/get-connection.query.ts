import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { SisConnection } from '../../domain/sis-connection.js';
import { ConnectionNotFoundError } from '../../domain/sis-sync.errors.js';
import { SisConnectionRepository } from '../ports/sis-connection.repository.js';

/** A live connection, without its secret (`hasSecret` says whether one is stored). */
export class GetConnectionQuery extends Query<SisConnection> {
  constructor(readonly connectionId: string) {
    super();
  }
}

@QueryHandler(GetConnectionQuery)
export class GetConnectionHandler implements IQueryHandler<GetConnectionQuery, SisConnection> {
  constructor(private readonly connections: SisConnectionRepository) {}

  async execute({ connectionId }: GetConnectionQuery): Promise<SisConnection> {
    const connection = await this.connections.findById(connectionId);
    if (!connection) throw new ConnectionNotFoundError(connectionId);
    return connection;
  }
}
