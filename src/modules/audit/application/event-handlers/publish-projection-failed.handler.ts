import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { RealtimePublisher } from '../../../realtime/index.js';
import { AuditProjectionFailedEvent } from '../audit-projection-failed.event.js';
import { COMPLIANCE_ROOM } from '../compliance-room.js';

/** Tells the `compliance` room that a read model skipped an entry it could not apply. */
@EventsHandler(AuditProjectionFailedEvent)
export class PublishProjectionFailedHandler implements IEventHandler<AuditProjectionFailedEvent> {
  constructor(private readonly realtime: RealtimePublisher) {}

  handle({ projection, seq, code, failedAt }: AuditProjectionFailedEvent): void {
    this.realtime.publish(COMPLIANCE_ROOM, 'audit.projection-failed', {
      projection,
      seq,
      code,
      failedAt: failedAt.toISOString(),
    });
  }
}
