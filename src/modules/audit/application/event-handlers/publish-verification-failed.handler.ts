import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { RealtimePublisher } from '../../../realtime/index.js';
import { AuditVerificationFailedEvent } from '../audit-verification-failed.event.js';
import { COMPLIANCE_ROOM } from '../compliance-room.js';

/**
 * Tells the `compliance` room that the chain failed to verify. From a worker or the CLI this goes through the
 * Redis emitter, so officers connected to any API process hear it.
 */
@EventsHandler(AuditVerificationFailedEvent)
export class PublishVerificationFailedHandler implements IEventHandler<AuditVerificationFailedEvent> {
  constructor(private readonly realtime: RealtimePublisher) {}

  handle({ firstBadSeq, problem, verifiedAt }: AuditVerificationFailedEvent): void {
    this.realtime.publish(COMPLIANCE_ROOM, 'audit.verification-failed', {
      firstBadSeq,
      problem,
      verifiedAt: verifiedAt.toISOString(),
    });
  }
}
