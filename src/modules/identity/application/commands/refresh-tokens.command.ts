import { Clock } from '@app/ddd';
import { SessionRevokedV1 } from '@app/contracts';
import { Command, CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { InvalidRefreshTokenError, RefreshTokenReusedError } from '../../domain/identity.errors.js';
import type { Session } from '../../domain/session.js';
import { SessionRepository } from '../ports/session.repository.js';
import { UserRepository } from '../ports/user.repository.js';
import { hashRefreshToken, TokenService, type IssuedTokens } from '../services/token.service.js';

export class RefreshTokensCommand extends Command<IssuedTokens> {
  constructor(readonly refreshToken: string) {
    super();
  }
}

/**
 * Rotation with reuse detection: each refresh token works once. Presenting one that was already rotated
 * means it leaked, so the whole session (every token descended from that sign-in) is revoked.
 */
@CommandHandler(RefreshTokensCommand)
export class RefreshTokensHandler implements ICommandHandler<RefreshTokensCommand> {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly users: UserRepository,
    private readonly tokens: TokenService,
    private readonly events: EventBus,
    private readonly clock: Clock,
  ) {}

  async execute({ refreshToken }: RefreshTokensCommand): Promise<IssuedTokens> {
    const record = await this.sessions.findToken(hashRefreshToken(refreshToken));
    if (!record) throw new InvalidRefreshTokenError();
    const session = await this.sessions.findById(record.sessionId);
    const now = this.clock.now();
    if (!session) throw new InvalidRefreshTokenError();

    if (record.rotatedAt) return this.reuseDetected(session, now);
    if (!session.isActive(now)) throw new InvalidRefreshTokenError();
    const user = await this.users.findById(session.userId);
    if (!user || user.disabled) throw new InvalidRefreshTokenError();

    const { refreshRecord, ...issued } = await this.tokens.issue(user, session);
    // Concurrent refreshes with one token all get this far; the conditional rotation lets exactly one win.
    if (!(await this.sessions.rotate(record.tokenHash, refreshRecord, now))) return this.reuseDetected(session, now);
    return issued;
  }

  private async reuseDetected(session: Session, now: Date): Promise<never> {
    if (await this.sessions.revoke(session.id, 'reuse-detected', now)) {
      this.events.publish(new SessionRevokedV1(session.userId, session.id, 'reuse-detected'));
    }
    throw new RefreshTokenReusedError();
  }
}
