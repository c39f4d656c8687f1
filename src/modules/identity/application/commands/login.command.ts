import { Clock } from '@app/ddd';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AuthConfig } from '../../../../config/index.js';
import { AccountLockedError, InvalidCredentialsError } from '../../domain/identity.errors.js';
import { PasswordHasher } from '../ports/password-hasher.port.js';
import { SessionRepository } from '../ports/session.repository.js';
import { UserRepository } from '../ports/user.repository.js';
import { TokenService, type IssuedTokens } from '../services/token.service.js';

export class LoginCommand extends Command<IssuedTokens> {
  constructor(
    readonly email: string,
    readonly password: string,
  ) {
    super();
  }
}

/** Hash of a random password: unknown emails are verified against it so they take as long as known ones. */
const TIMING_DECOY_HASH =
  '$argon2id$v=19$m=65536,t=3,p=4$Gc3M3SVGM2au+uPvqVikJA$g5n9NbzO+61kIklA4OIL2Yr/OAoQHaIc5+dRKu5IU0M';

@CommandHandler(LoginCommand)
export class LoginHandler implements ICommandHandler<LoginCommand> {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly config: AuthConfig,
    private readonly clock: Clock,
  ) {}

  async execute({ email, password }: LoginCommand): Promise<IssuedTokens> {
    const user = await this.users.findByEmail(email);
    if (!user) {
      await this.hasher.verify(TIMING_DECOY_HASH, password);
      throw new InvalidCredentialsError();
    }
    const now = this.clock.now();
    const lockedFor = user.lockedForSeconds(now);
    if (lockedFor > 0) throw new AccountLockedError(lockedFor);

    const valid = await this.hasher.verify(user.passwordHash, password);
    if (!valid || user.disabled) {
      if (!valid) {
        user.recordFailedLogin(now, {
          maxFailures: this.config.maxFailedLogins,
          lockoutMinutes: this.config.lockoutMinutes,
        });
        await this.users.save(user);
        const nowLocked = user.lockedForSeconds(now);
        if (nowLocked > 0) throw new AccountLockedError(nowLocked);
      }
      throw new InvalidCredentialsError();
    }

    user.recordSuccessfulLogin(now);
    await this.users.save(user);
    const session = this.tokens.startSession(user.id);
    const { refreshRecord, ...issued } = await this.tokens.issue(user, session);
    await this.sessions.save([session], [refreshRecord]);
    return issued;
  }
}
