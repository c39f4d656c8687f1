import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { UserNotFoundError } from '../../domain/identity.errors.js';
import type { User } from '../../domain/user.js';
import { UserRepository } from '../ports/user.repository.js';

export class GetUserQuery extends Query<User> {
  constructor(readonly userId: string) {
    super();
  }
}

@QueryHandler(GetUserQuery)
export class GetUserHandler implements IQueryHandler<GetUserQuery> {
  constructor(private readonly users: UserRepository) {}

  async execute({ userId }: GetUserQuery): Promise<User> {
    const user = await this.users.findById(userId);
    if (!user) throw new UserNotFoundError(userId);
    return user;
  }
}
