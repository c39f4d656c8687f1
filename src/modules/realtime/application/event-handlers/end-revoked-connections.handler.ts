import { SessionRevokedV1, UserAccessChangedV1 } from '@app/contracts';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { RealtimePublisher } from '../ports/realtime-publisher.port.js';

/**
 * A revoked session or changed access (roles, school scope, password, disabled) ends the affected sockets
 * wherever they are connected: their token no longer authenticates, and the rooms they joined were granted for
 * the access they had.
 */
@EventsHandler(SessionRevokedV1, UserAccessChangedV1)
export class EndRevokedConnectionsHandler implements IEventHandler<SessionRevokedV1 | UserAccessChangedV1> {
  constructor(private readonly publisher: RealtimePublisher) {}

  handle(event: SessionRevokedV1 | UserAccessChangedV1): void {
    if (event instanceof SessionRevokedV1) {
      this.publisher.endConnections({ sessionId: event.sessionId }, event.reason === 'logout' ? 'logout' : 'revoked');
    } else {
      this.publisher.endConnections({ userId: event.userId }, 'access-changed');
    }
  }
}
