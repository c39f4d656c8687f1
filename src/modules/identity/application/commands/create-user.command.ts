import { Clock } from '@app/ddd';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { assertAcceptablePassword } from '../../domain/password-policy.js';
import type { Role } from '../../domain/role.js';
import { User } from '../../domain/user.js';
import { PasswordHasher } from '../ports/password-hasher.port.js';
import { UserRepository } from '../ports/user.repository.js';
import { SchoolScopeResolver } from '../services/school-scope.resolver.js';

export class CreateUserCommand extends Command<User> {
  constructor(
    readonly email: string,
    readonly displayName: string,
    readonly password: string,
    readonly roles: readonly Role[] | undefined,
    readonly schoolIds: readonly string[] | undefined,
  ) {
    super();
  }
}

@CommandHandler(CreateUserCommand)
export class CreateUserHandler implements ICommandHandler<CreateUserCommand> {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly schoolScope: SchoolScopeResolver,
  ) {}

  async execute(command: CreateUserCommand): Promise<User> {
    assertAcceptablePassword(command.password, command.email);
    const schoolIds = await this.schoolScope.resolve(command.schoolIds ?? []);
    const user = User.create({
      id: randomUUID(),
      email: command.email,
      displayName: command.displayName,
      passwordHash: await this.hasher.hash(command.password),
      roles: command.roles,
      schoolIds,
      now: this.clock.now(),
    });
    await this.users.save(user);
    return user;
  }
}
