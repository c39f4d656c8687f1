import { Logger } from '@nestjs/common';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { SisTokenObtainedEvent } from '../../domain/connection-health.js';
import { ConnectionHealthRepository } from '../ports/connection-health.repository.js';

/** Keeps the expiry of the newest access token a run obtained, for the connection's health view. */
@EventsHandler(SisTokenObtainedEvent)
export class RecordTokenExpiryHandler implements IEventHandler<SisTokenObtainedEvent> {
  private readonly logger = new Logger('SisSync');

  constructor(private readonly health: ConnectionHealthRepository) {}

  handle(event: SisTokenObtainedEvent): Promise<void> {
    return this.health
      .recordToken(event.connectionId, event.expiresAt, event.observedAt)
      .catch((error: Error) => this.logger.warn(`Could not record the token expiry: ${error.message}`));
  }
}
