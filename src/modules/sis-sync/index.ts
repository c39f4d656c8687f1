export { CreateConnectionCommand, type NewConnection } from './application/commands/create-connection.command.js';
export { DeleteConnectionCommand } from './application/commands/delete-connection.command.js';
export { EnsureCsvImportConnectionCommand } from './application/commands/ensure-csv-import-connection.command.js';
export { UpdateConnectionCommand, type ConnectionChanges } from './application/commands/update-connection.command.js';
export { GetConnectionQuery, ListConnectionsQuery } from './application/queries/connection.queries.js';
export {
  ApproveSyncRunCommand,
  CancelSyncRunCommand,
  DiscardSyncRunCommand,
} from './application/commands/review-sync-run.commands.js';
export { GetSyncRunQuery, ListSyncRunsQuery } from './application/queries/sync-run.queries.js';
export { isTerminal, SYNC_RUN_STATES, type SyncRun, type SyncRunState } from './domain/sync-run.js';
export { describeHoldReason, printSyncRunSummary, syncRunDocument } from './interface/cli/sync-run-report.js';
export {
  CSV_IMPORT_CONNECTION_NAME,
  ONEROSTER_VENDORS,
  ONEROSTER_VERSIONS,
  SIS_PROVIDERS,
  type OneRosterVendor,
  type OneRosterVersion,
  type SisConnection,
  type SisConnectionSettings,
  type SisProvider,
  type ThresholdSettings,
} from './domain/sis-connection.js';
export {
  ConnectionNameTakenError,
  ConnectionNotFoundError,
  InvalidConnectionSettingsError,
  ProviderNotSupportedError,
  RunAlreadyActiveError,
  SecretUnreadableError,
} from './domain/sis-sync.errors.js';
export { SisSyncModule } from './sis-sync.module.js';
