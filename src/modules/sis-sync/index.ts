export { CreateConnectionCommand, type NewConnection } from './application/commands/create-connection.command.js';
export { DeleteConnectionCommand } from './application/commands/delete-connection.command.js';
export { EnsureCsvImportConnectionCommand } from './application/commands/ensure-csv-import-connection.command.js';
export { UpdateConnectionCommand, type ConnectionChanges } from './application/commands/update-connection.command.js';
export { GetConnectionQuery } from './application/queries/get-connection.query.js';
export { ListConnectionsQuery } from './application/queries/list-connections.query.js';
export { ApproveSyncRunCommand } from './application/commands/approve-sync-run.command.js';
export { CancelSyncRunCommand } from './application/commands/cancel-sync-run.command.js';
export { DiscardSyncRunCommand } from './application/commands/discard-sync-run.command.js';
export { GetSyncRunQuery } from './application/queries/get-sync-run.query.js';
export { ListSyncRunsQuery } from './application/queries/list-sync-runs.query.js';
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
