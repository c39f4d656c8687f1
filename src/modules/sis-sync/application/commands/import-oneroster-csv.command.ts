import { Clock } from '@app/ddd';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { csvImportConnectionSettings } from '../../domain/connection-defaults.js';
import { ConnectionNotFoundError } from '../../domain/sis-sync.errors.js';
import { NotACsvConnectionError } from '../../domain/sync-run.errors.js';
import { uploadedFileName, type SyncRun } from '../../domain/sync-run.js';
import { ImportFileStore } from '../ports/import-file.store.js';
import { SisConnectionRepository } from '../ports/sis-connection.repository.js';
import { StartSyncRunCommand } from './start-sync-run.command.js';

export const CSV_IMPORT_CONNECTION_NAME = 'OneRoster CSV uploads';

export class ImportOneRosterCsvCommand extends Command<SyncRun> {
  constructor(
    readonly content: Readable,
    readonly requestedBy: string | null,
    readonly dryRun: boolean,
    /** Mirror under this `oneroster-csv` connection (its sourcedIds); default: the shared CSV-upload connection. */
    readonly connectionId?: string,
    /** The file's name as the client sent it (untrusted: sanitised before it is recorded). */
    readonly fileName: string | null = null,
  ) {
    super();
  }
}

/**
 * Stores the uploaded zip where every worker can read it (under a random name), then queues a run for it that
 * records the name it was uploaded under. Bulk files are complete snapshots of their entity; delta files carry
 * explicit changes and deletions (the run records the mode the manifest gives, see `SisSource.fixedMode`).
 */
@CommandHandler(ImportOneRosterCsvCommand)
export class ImportOneRosterCsvHandler implements ICommandHandler<ImportOneRosterCsvCommand, SyncRun> {
  constructor(
    private readonly connections: SisConnectionRepository,
    private readonly files: ImportFileStore,
    private readonly commands: CommandBus,
    private readonly clock: Clock,
  ) {}

  async execute(command: ImportOneRosterCsvCommand): Promise<SyncRun> {
    const connectionId = command.connectionId
      ? await this.requireConnection(command.connectionId)
      : await this.connections.ensureCsvImportConnection({
          id: randomUUID(),
          name: CSV_IMPORT_CONNECTION_NAME,
          settings: csvImportConnectionSettings(),
          at: this.clock.now(),
        });
    const { fileId } = await this.files.save(command.content);
    try {
      return await this.commands.execute(
        new StartSyncRunCommand({
          connectionId,
          mode: 'full',
          dryRun: command.dryRun,
          trigger: 'import',
          requestedBy: command.requestedBy,
          importFile: fileId,
          importFileName: uploadedFileName(command.fileName),
        }),
      );
    } catch (error) {
      await this.files.delete(fileId);
      throw error;
    }
  }

  /** A CSV connection of the district's (before the file is stored: nothing to clean up when refused). */
  private async requireConnection(id: string): Promise<string> {
    const connection = await this.connections.findById(id);
    if (!connection) throw new ConnectionNotFoundError(id);
    if (connection.provider !== 'oneroster-csv') throw new NotACsvConnectionError(id, connection.provider);
    return connection.id;
  }
}
