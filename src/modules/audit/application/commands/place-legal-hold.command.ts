import { Clock } from '@app/ddd';
import { TransactionRunner } from '@app/persistence';
import { Command, CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { FindExistingStudentIdsQuery } from '../../../roster/index.js';
import type { AuditOrigin } from '../../domain/audit-entry.js';
import { UnknownStudentsError } from '../../domain/audit-records.errors.js';
import { placeLegalHold, type LegalHold } from '../../domain/legal-hold.js';
import { AuditLog } from '../ports/audit-log.port.js';
import { LegalHoldRepository } from '../ports/legal-hold.repository.js';
import type { UserAuditActor } from '../system-audit-actor.js';

/** Stops the retention purge from removing entries about a student (99.10(e)) until the hold is released. */
export class PlaceLegalHoldCommand extends Command<LegalHold> {
  constructor(
    readonly studentId: string,
    readonly reason: string,
    readonly placedBy: UserAuditActor,
    readonly origin: AuditOrigin,
  ) {
    super();
  }
}

@CommandHandler(PlaceLegalHoldCommand)
export class PlaceLegalHoldHandler implements ICommandHandler<PlaceLegalHoldCommand> {
  constructor(
    private readonly holds: LegalHoldRepository,
    private readonly log: AuditLog,
    private readonly transactions: TransactionRunner,
    private readonly queries: QueryBus,
    private readonly clock: Clock,
  ) {}

  async execute({ studentId, reason, placedBy, origin }: PlaceLegalHoldCommand): Promise<LegalHold> {
    const placedAt = this.clock.now();
    const hold = placeLegalHold({ studentId, reason }, { id: randomUUID(), placedBy: placedBy.id, placedAt });
    const [existing] = await this.queries.execute(new FindExistingStudentIdsQuery([hold.studentId]));
    if (existing === undefined) throw new UnknownStudentsError([hold.studentId], 'studentId');
    await this.transactions.run(async () => {
      await this.holds.add(hold);
      await this.log.append([
        {
          action: 'legal_hold.placed',
          resource: { type: 'legal_hold', id: hold.id },
          actor: placedBy,
          studentIds: [hold.studentId],
          dataCategories: ['audit_trail'],
          outcome: 'allowed',
          origin,
          details: { holdId: hold.id },
          occurredAt: placedAt,
        },
      ]);
    });
    return hold;
  }
}
