import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { UserRepository, type UserPage } from '../ports/user.repository.js';

export class ListUsersQuery extends Query<UserPage> {
  constructor(
    readonly limit: number,
    readonly cursor: string | undefined,
  ) {
    super();
  }
}

@QueryHandler(ListUsersQuery)
export class ListUsersHandler implements IQueryHandler<ListUsersQuery> {
  constructor(private readonly users: UserRepository) {}

  execute({ limit, cursor }: ListUsersQuery): Promise<UserPage> {
    return this.users.list(limit, cursor);
  }
}
