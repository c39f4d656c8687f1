import { Clock } from '@app/ddd';
import { TransactionRunner } from '@app/persistence';
import { Command, CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { FindExistingStudentIdsQuery } from '../../../roster/index.js';
import type { AuditOrigin } from '../../domain/audit-entry.js';
import { UnknownStudentsError } from '../../domain/audit-records.errors.js';
import { recordDisclosure, type Disclosure, type DisclosureDraft } from '../../domain/disclosure.js';
import { AuditLog } from '../ports/audit-log.port.js';
import { DisclosureRepository } from '../ports/disclosure.repository.js';
import type { UserAuditActor } from '../system-audit-actor.js';

/** Records a disclosure of students' PII (34 CFR 99.32) together with its `disclosure.recorded` audit entry. */
export class RecordDisclosureCommand extends Command<Disclosure> {
  constructor(
    readonly draft: DisclosureDraft,
    readonly recordedBy: UserAuditActor,
    readonly origin: AuditOrigin,
  ) {
    super();
  }
}

@CommandHandler(RecordDisclosureCommand)
export class RecordDisclosureHandler implements ICommandHandler<RecordDisclosureCommand> {
  constructor(
    private readonly disclosures: DisclosureRepository,
    private readonly log: AuditLog,
    private readonly transactions: TransactionRunner,
    private readonly queries: QueryBus,
    private readonly clock: Clock,
  ) {}

  async execute({ draft, recordedBy, origin }: RecordDisclosureCommand): Promise<Disclosure> {
    const recordedAt = this.clock.now();
    const disclosure = recordDisclosure(draft, { id: randomUUID(), recordedBy: recordedBy.id, recordedAt });
    const existing = new Set(await this.queries.execute(new FindExistingStudentIdsQuery(disclosure.studentIds)));
    const unknown = disclosure.studentIds.filter((id) => !existing.has(id));
    if (unknown.length > 0) throw new UnknownStudentsError(unknown);
    // The record and its entry commit together: a disclosure is never stored without its trace in the chain.
    await this.transactions.run(async () => {
      await this.disclosures.add(disclosure);
      await this.log.append([
        {
          action: 'disclosure.recorded',
          resource: { type: 'disclosure', id: disclosure.id },
          actor: recordedBy,
          studentIds: disclosure.studentIds,
          dataCategories: ['disclosures'],
          purpose: disclosure.basis,
          outcome: 'allowed',
          origin,
          // Codes and counts only: party names and free-text interests stay in the disclosure record.
          details: {
            basis: disclosure.basis,
            partyType: disclosure.party.type,
            recordRequired: disclosure.recordRequired,
            disclosedOn: disclosure.disclosedOn,
            disclosedCategories: disclosure.dataCategories,
            redisclosureParties: disclosure.redisclosureParties.length,
            emergency: disclosure.emergency !== null,
          },
          occurredAt: recordedAt,
        },
      ]);
    });
    return disclosure;
  }
}
