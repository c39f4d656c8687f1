import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { RealtimePublisher } from '../../../realtime/index.js';
import { AuditAccessDeniedEvent } from '../audit-access-denied.event.js';
import { COMPLIANCE_ROOM } from '../compliance-room.js';

/** Tells the `compliance` room about each recorded denial: ids and codes, never names. */
@EventsHandler(AuditAccessDeniedEvent)
export class PublishAccessDeniedHandler implements IEventHandler<AuditAccessDeniedEvent> {
  constructor(private readonly realtime: RealtimePublisher) {}

  handle({ entry, seq }: AuditAccessDeniedEvent): void {
    this.realtime.publish(COMPLIANCE_ROOM, 'audit.access-denied', {
      seq,
      occurredAt: entry.occurredAt.toISOString(),
      action: entry.action,
      actor: { id: entry.actor.id, roles: [...entry.actor.roles] },
      studentIds: [...new Set(entry.studentIds)].sort(),
      reason: entry.reason ?? null,
      route: entry.origin.route ?? null,
    });
  }
}
