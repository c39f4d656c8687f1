import { Clock } from '@app/ddd';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuthConfig } from '../../../../config/index.js';
import { InvalidCredentialsError, TooManySignInAttemptsError } from '../../domain/identity.errors.js';
import { slowdownMs, sourceRetryAfterSeconds, type SignInThrottlePolicy } from '../../domain/sign-in-throttle.js';
import { normaliseEmail } from '../../domain/user.js';
import { LoginFailureStore } from '../ports/login-failure.store.js';
import { PasswordHasher } from '../ports/password-hasher.port.js';
import { SessionRepository } from '../ports/session.repository.js';
import { UserRepository } from '../ports/user.repository.js';
import { TokenService, type IssuedTokens } from '../services/token.service.js';

export class LoginCommand extends Command<IssuedTokens> {
  constructor(
    readonly email: string,
    readonly password: string,
    /** The client address (behind a trusted proxy, the one it reports). */
    readonly source: string,
  ) {
    super();
  }
}

/** Opaque counter keys: digests, so no address or email is stored with the counts. */
function failureKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('base64url');
}

/**
 * Sign-in without a lock anyone could trigger. Failures are counted per email and per (address, email),
 * whether or not the email has an account, and the same work is done either way (a decoy hash check for
 * unknown emails), so unknown and known emails get the same answers in the same time. An address that keeps
 * failing for one email is refused for it for a while; an email that keeps failing from everywhere is
 * answered more slowly; the owner signing in from their own address always gets in, and that clears the delay.
 */
@CommandHandler(LoginCommand)
export class LoginHandler implements ICommandHandler<LoginCommand> {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly failures: LoginFailureStore,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly config: AuthConfig,
    private readonly clock: Clock,
  ) {}

  async execute({ email, password, source }: LoginCommand): Promise<IssuedTokens> {
    const policy = this.policy();
    const normalised = normaliseEmail(email);
    const keys = [failureKey('email', normalised), failureKey('source', source, normalised)] as const;
    const [account, fromSource] = await this.failures.read(keys, this.clock.now());
    const retryAfter = sourceRetryAfterSeconds(fromSource, policy, this.clock.now());
    if (retryAfter > 0) throw new TooManySignInAttemptsError(retryAfter);
    const hold = slowdownMs(account.failures, policy);
    if (hold > 0) await sleep(hold);

    const user = await this.users.findByEmail(normalised);
    const valid = user
      ? await this.hasher.verify(user.passwordHash, password)
      : await this.hasher.verifyNothing(password);
    if (!user || !valid) {
      await this.failures.record(keys, this.clock.now(), policy.windowMinutes * 60_000);
      throw new InvalidCredentialsError();
    }
    if (user.disabled) throw new InvalidCredentialsError();

    await this.failures.clear(keys);
    const session = this.tokens.startSession(user.id);
    const { refreshRecord, ...issued } = await this.tokens.issue(user, session);
    await this.sessions.save([session], [refreshRecord]);
    return issued;
  }

  private policy(): SignInThrottlePolicy {
    return {
      maxFailuresPerSource: this.config.maxFailedLogins,
      windowMinutes: this.config.lockoutMinutes,
      slowdownAfter: this.config.maxFailedLogins,
      slowdownMaxMs: this.config.loginSlowdownMaxMs,
    };
  }
}
