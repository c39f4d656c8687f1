import { Clock } from '@app/ddd';
import { SessionRevokedV1 } from '@app/contracts';
import { Command, CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { SessionRepository } from '../ports/session.repository.js';

export class LogoutCommand extends Command<void> {
  constructor(readonly sessionId: string) {
    super();
  }
}

@CommandHandler(LogoutCommand)
export class LogoutHandler implements ICommandHandler<LogoutCommand> {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly events: EventBus,
    private readonly clock: Clock,
  ) {}

  async execute({ sessionId }: LogoutCommand): Promise<void> {
    const session = await this.sessions.findById(sessionId);
    if (!session || session.revokedAt) return;
    session.revoke('logout', this.clock.now());
    await this.sessions.save([session], []);
    this.events.publish(new SessionRevokedV1(session.userId, session.id, 'logout'));
  }
}
