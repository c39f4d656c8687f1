import { Clock, SystemClock } from '@app/ddd';
import { MikroOrmTransactionRunner, TransactionRunner } from '@app/persistence';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { ApproveSyncRunHandler } from './application/commands/approve-sync-run.command.js';
import { CancelSyncRunHandler } from './application/commands/cancel-sync-run.command.js';
import { DiscardSyncRunHandler } from './application/commands/discard-sync-run.command.js';
import { ImportOneRosterCsvHandler } from './application/commands/import-oneroster-csv.command.js';
import { RestoreSyncRunHandler } from './application/commands/restore-sync-run.command.js';
import { StartSyncRunHandler } from './application/commands/start-sync-run.command.js';
import { DispatchScheduledRunsJob } from './application/dispatch-scheduled-runs.job.js';
import { ImportFileStore } from './application/ports/import-file.store.js';
import { ScheduleTickClaims } from './application/ports/schedule-tick.claims.js';
import { SisSourceFactory } from './application/ports/sis-source.factory.js';
import { SyncMetrics } from './application/ports/sync-metrics.port.js';
import { SyncRunRepository } from './application/ports/sync-run.repository.js';
import { FindStudentIdsNamedByRecordsHandler } from './application/queries/find-student-ids-named-by-records.query.js';
import { GetSyncRunHandler } from './application/queries/get-sync-run.query.js';
import { ListSyncRunIssuesHandler } from './application/queries/list-sync-run-issues.query.js';
import { ListSyncRunStudentIdsHandler } from './application/queries/list-sync-run-student-ids.query.js';
import { ListSyncRunsHandler } from './application/queries/list-sync-runs.query.js';
import { ListVendorGuidesHandler } from './application/queries/list-vendor-guides.query.js';
import { RecoverStalledRunsJob } from './application/recover-stalled-runs.job.js';
import { RunSyncJob } from './application/run-sync.job.js';
import { SyncEngine } from './application/services/sync-engine.js';
import { SyncRunBroadcaster } from './application/services/sync-run.broadcaster.js';
import { PostgresImportFileStore } from './infrastructure/postgres-import-file.store.js';
import { PrometheusSyncMetrics } from './infrastructure/prometheus-sync.metrics.js';
import { ProviderSisSourceFactory } from './infrastructure/sis-source.factory.adapter.js';
import { SqlScheduleTickClaims } from './infrastructure/sql-schedule-tick.claims.js';
import { SqlSyncRunRepository } from './infrastructure/sql-sync-run.repository.js';
import { SyncCliCommand, SyncImportCliCommand } from './interface/cli/sync.command.js';
import { SyncRunsController } from './interface/http/sync-runs.controller.js';
import { SisOpsRoomPolicy, SyncRunRoomPolicy } from './interface/ws/sync-run-room.policies.js';
import { CreateConnectionHandler } from './application/commands/create-connection.command.js';
import { DeleteConnectionHandler } from './application/commands/delete-connection.command.js';
import { EnsureCsvImportConnectionHandler } from './application/commands/ensure-csv-import-connection.command.js';
import { UpdateConnectionHandler } from './application/commands/update-connection.command.js';
import { SecretCipher } from './application/ports/secret-cipher.port.js';
import { SisConnectionRepository } from './application/ports/sis-connection.repository.js';
import { GetConnectionHandler } from './application/queries/get-connection.query.js';
import { ListConnectionsHandler } from './application/queries/list-connections.query.js';
import { AesGcmSecretCipher } from './infrastructure/aes-gcm-secret-cipher.js';
import { MikroOrmSisConnectionRepository } from './infrastructure/mikro-orm-sis-connection.repository.js';
import { SisConnectionsController } from './interface/http/sis-connections.controller.js';
import { TestConnectionHandler } from './application/commands/test-connection.command.js';
import { DeliverAlertJob } from './application/deliver-alert.job.js';
import { AlertOnRunSettledHandler } from './application/event-handlers/alert-on-run-settled.handler.js';
import { RecordTokenExpiryHandler } from './application/event-handlers/record-token-expiry.handler.js';
import { ConnectionHealthRepository } from './application/ports/connection-health.repository.js';
import { NOTIFIERS } from './application/ports/notifier.port.js';
import { SyncAlertRepository } from './application/ports/sync-alert.repository.js';
import { GetConnectionHealthHandler } from './application/queries/connection-health.query.js';
import { GetSyncOperationsStatusHandler } from './application/queries/get-sync-operations-status.query.js';
import { SmtpNotifier } from './infrastructure/smtp.notifier.js';
import { SqlConnectionHealthRepository } from './infrastructure/sql-connection-health.repository.js';
import { SqlSyncAlertRepository } from './infrastructure/sql-sync-alert.repository.js';
import { WebhookNotifier } from './infrastructure/webhook.notifier.js';
import { ConnectionHealthController } from './interface/http/connection-health.controller.js';

/**
 * SIS connections (settings, encrypted credentials) and the sync engine. Connection commands and queries
 * answer on the buses in every process role; the HTTP routes exist where HTTP is served.
 */
@Module({})
export class SisSyncModule {
  static forRole({ servesHttp, servesCli = false }: { servesHttp: boolean; servesCli?: boolean }): DynamicModule {
    const connections: Provider[] = [
      { provide: Clock, useClass: SystemClock },
      { provide: SecretCipher, useClass: AesGcmSecretCipher },
      { provide: SisConnectionRepository, useClass: MikroOrmSisConnectionRepository },
      CreateConnectionHandler,
      UpdateConnectionHandler,
      DeleteConnectionHandler,
      EnsureCsvImportConnectionHandler,
      GetConnectionHandler,
      ListConnectionsHandler,
    ];
    const sync: Provider[] = [
      { provide: SyncRunRepository, useClass: SqlSyncRunRepository },
      { provide: SisSourceFactory, useClass: ProviderSisSourceFactory },
      { provide: ImportFileStore, useClass: PostgresImportFileStore },
      { provide: ScheduleTickClaims, useClass: SqlScheduleTickClaims },
      { provide: SyncMetrics, useClass: PrometheusSyncMetrics },
      { provide: TransactionRunner, useClass: MikroOrmTransactionRunner },
      SyncEngine,
      SyncRunBroadcaster,
      StartSyncRunHandler,
      ImportOneRosterCsvHandler,
      ApproveSyncRunHandler,
      DiscardSyncRunHandler,
      CancelSyncRunHandler,
      RestoreSyncRunHandler,
      ListSyncRunsHandler,
      GetSyncRunHandler,
      ListSyncRunIssuesHandler,
      ListSyncRunStudentIdsHandler,
      FindStudentIdsNamedByRecordsHandler,
      ListVendorGuidesHandler,
      RunSyncJob,
      RecoverStalledRunsJob,
      DispatchScheduledRunsJob,
    ];
    // Connection test and health, and alerts on failed or held runs (webhook and email).
    const health: Provider[] = [
      { provide: ConnectionHealthRepository, useClass: SqlConnectionHealthRepository },
      { provide: SyncAlertRepository, useClass: SqlSyncAlertRepository },
      WebhookNotifier,
      SmtpNotifier,
      {
        provide: NOTIFIERS,
        useFactory: (...notifiers: unknown[]) => notifiers,
        inject: [WebhookNotifier, SmtpNotifier],
      },
      TestConnectionHandler,
      GetConnectionHealthHandler,
      GetSyncOperationsStatusHandler,
      AlertOnRunSettledHandler,
      RecordTokenExpiryHandler,
      DeliverAlertJob,
    ];
    return {
      module: SisSyncModule,
      controllers: servesHttp ? [SisConnectionsController, SyncRunsController, ConnectionHealthController] : [],
      providers: [
        ...connections,
        ...sync,
        ...health,
        ...(servesHttp ? [SisOpsRoomPolicy, SyncRunRoomPolicy] : []),
        ...(servesCli ? [SyncCliCommand, SyncImportCliCommand] : []),
      ],
    };
  }
}
