import { Clock } from '@app/ddd';
import { TransactionRunner } from '@app/persistence';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { AuditOrigin } from '../../domain/audit-entry.js';
import { LegalHoldAlreadyReleasedError, LegalHoldNotFoundError, type LegalHold } from '../../domain/legal-hold.js';
import { AuditLog } from '../ports/audit-log.port.js';
import { LegalHoldRepository } from '../ports/legal-hold.repository.js';
import type { UserAuditActor } from '../system-audit-actor.js';

/** Ends a legal hold: the student's entries are purged again once they pass the retention period. */
export class ReleaseLegalHoldCommand extends Command<LegalHold> {
  constructor(
    readonly holdId: string,
    readonly releasedBy: UserAuditActor,
    readonly origin: AuditOrigin,
  ) {
    super();
  }
}

@CommandHandler(ReleaseLegalHoldCommand)
export class ReleaseLegalHoldHandler implements ICommandHandler<ReleaseLegalHoldCommand> {
  constructor(
    private readonly holds: LegalHoldRepository,
    private readonly log: AuditLog,
    private readonly transactions: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  execute({ holdId, releasedBy, origin }: ReleaseLegalHoldCommand): Promise<LegalHold> {
    const releasedAt = this.clock.now();
    return this.transactions.run(async () => {
      const released = await this.holds.release(holdId, releasedBy.id, releasedAt);
      if (!released) {
        const found = await this.holds.findById(holdId);
        throw found ? new LegalHoldAlreadyReleasedError(holdId) : new LegalHoldNotFoundError(holdId);
      }
      await this.log.append([
        {
          action: 'legal_hold.released',
          resource: { type: 'legal_hold', id: released.id },
          actor: releasedBy,
          studentIds: [released.studentId],
          dataCategories: ['audit_trail'],
          outcome: 'allowed',
          origin,
          details: { holdId: released.id },
          occurredAt: releasedAt,
        },
      ]);
      return released;
    });
  }
}
