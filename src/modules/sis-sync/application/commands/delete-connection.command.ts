import { Clock } from '@app/ddd';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { SisConnectionRepository } from '../ports/sis-connection.repository.js';

export class DeleteConnectionCommand extends Command<void> {
  constructor(
    readonly actorId: string | null,
    readonly connectionId: string,
  ) {
    super();
  }
}

/**
 * Soft delete: the connection disappears from the API and stops syncing, its mirrored roster data stays
 * (attendance and audit history point at it). Refused while a run is queued, running or held.
 */
@CommandHandler(DeleteConnectionCommand)
export class DeleteConnectionHandler implements ICommandHandler<DeleteConnectionCommand, void> {
  constructor(
    private readonly connections: SisConnectionRepository,
    private readonly clock: Clock,
  ) {}

  async execute({ connectionId }: DeleteConnectionCommand): Promise<void> {
    await this.connections.softDelete(connectionId, this.clock.now());
  }
}
