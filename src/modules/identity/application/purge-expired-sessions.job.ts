import { Clock } from '@app/ddd';
import type { JobPayload } from '@app/contracts';
import { JobHandler, type HandlesJob } from '@app/queue';
import { Injectable, Logger } from '@nestjs/common';
import { LoginFailureStore } from './ports/login-failure.store.js';
import { SessionRepository } from './ports/session.repository.js';

type Payload = JobPayload<'identity.purge-expired-sessions'>;

@Injectable()
@JobHandler('identity.purge-expired-sessions', { schedule: { cron: '17 * * * *', payload: { olderThanDays: 30 } } })
export class PurgeExpiredSessionsJob implements HandlesJob<Payload> {
  private readonly logger = new Logger('Identity');

  constructor(
    private readonly sessions: SessionRepository,
    private readonly loginFailures: LoginFailureStore,
    private readonly clock: Clock,
  ) {}

  async handle({ olderThanDays }: Payload): Promise<void> {
    const before = new Date(this.clock.now().getTime() - olderThanDays * 86_400_000);
    const purged = await this.sessions.purgeEndedBefore(before);
    if (purged > 0) this.logger.log(`Purged ${purged} ended session(s)`);
    // Failure counters matter only within their window (minutes): drop them as soon as it ended.
    await this.loginFailures.purgeEndedBefore(this.clock.now());
  }
}
