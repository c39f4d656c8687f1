import { Clock } from '@app/ddd';
import { SessionRevokedV1, UserAccessChangedV1 } from '@app/contracts';
import { Command, CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { SelfLockoutError, UserNotFoundError } from '../../domain/identity.errors.js';
import { assertAcceptablePassword } from '../../domain/password-policy.js';
import type { Role } from '../../domain/role.js';
import type { User } from '../../domain/user.js';
import { PasswordHasher } from '../ports/password-hasher.port.js';
import { SessionRepository } from '../ports/session.repository.js';
import { UserRepository } from '../ports/user.repository.js';
import { SchoolScopeResolver } from '../services/school-scope.resolver.js';

export interface UserChanges {
  displayName?: string;
  roles?: Role[];
  schoolIds?: string[];
  disabled?: boolean;
  password?: string;
}

export class UpdateUserCommand extends Command<User> {
  constructor(
    readonly actorId: string,
    readonly userId: string,
    readonly changes: UserChanges,
  ) {
    super();
  }
}

/**
 * A change of roles, school scope, password or the disabled flag bumps the user's token version, so every
 * access token issued before it stops working. Disabling and a password change or reset also end every
 * session (refresh tokens included), with the same `SessionRevokedV1` events so live sockets close.
 */
@CommandHandler(UpdateUserCommand)
export class UpdateUserHandler implements ICommandHandler<UpdateUserCommand> {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly hasher: PasswordHasher,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly schoolScope: SchoolScopeResolver,
  ) {}

  async execute({ actorId, userId, changes }: UpdateUserCommand): Promise<User> {
    const user = await this.users.findById(userId);
    if (!user) throw new UserNotFoundError(userId);
    if (actorId === userId && (changes.disabled || (changes.roles && !changes.roles.includes('district_admin')))) {
      throw new SelfLockoutError();
    }
    // Resolved before anything changes, so a refused scope leaves the user as it was.
    const schoolIds = changes.schoolIds === undefined ? undefined : await this.schoolScope.resolve(changes.schoolIds);
    const now = this.clock.now();
    if (changes.password !== undefined) {
      assertAcceptablePassword(changes.password, user.email);
      user.changePasswordHash(await this.hasher.hash(changes.password), now);
    }
    if (changes.displayName !== undefined) user.rename(changes.displayName, now);
    const accessChanged = user.changeAccess({ ...changes, schoolIds }, now);
    await this.users.save(user);

    const endsSessions = user.disabled || changes.password !== undefined;
    const ended = endsSessions ? await this.sessions.revokeAllForUser(user.id, 'revoked', now) : [];

    if (accessChanged || changes.password !== undefined) {
      this.events.publish(new UserAccessChangedV1(user.id, user.disabled));
    }
    for (const sessionId of ended) this.events.publish(new SessionRevokedV1(user.id, sessionId, 'revoked'));
    return user;
  }
}
