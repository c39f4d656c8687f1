import { Clock } from '@app/ddd';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { csvImportConnectionSettings } from '../../domain/connection-defaults.js';
import { CSV_IMPORT_CONNECTION_NAME } from '../../domain/sis-connection.js';
import { SisConnectionRepository } from '../ports/sis-connection.repository.js';

/** Resolves to the id of the `oneroster-csv` connection CSV uploads are recorded against. */
export class EnsureCsvImportConnectionCommand extends Command<string> {}

/** Creates "OneRoster CSV uploads" on first use; concurrent first uploads end up with the same connection. */
@CommandHandler(EnsureCsvImportConnectionCommand)
export class EnsureCsvImportConnectionHandler implements ICommandHandler<EnsureCsvImportConnectionCommand, string> {
  constructor(
    private readonly connections: SisConnectionRepository,
    private readonly clock: Clock,
  ) {}

  execute(): Promise<string> {
    return this.connections.ensureCsvImportConnection({
      id: randomUUID(),
      name: CSV_IMPORT_CONNECTION_NAME,
      settings: csvImportConnectionSettings(),
      at: this.clock.now(),
    });
  }
}
