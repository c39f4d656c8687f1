import { Clock, SystemClock } from '@app/ddd';
import { MikroOrmTransactionRunner, TransactionRunner } from '@app/persistence';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { PublishAccessDeniedHandler } from './application/event-handlers/publish-access-denied.handler.js';
import { PublishProjectionFailedHandler } from './application/event-handlers/publish-projection-failed.handler.js';
import { PublishVerificationFailedHandler } from './application/event-handlers/publish-verification-failed.handler.js';
import { PlaceLegalHoldHandler } from './application/commands/place-legal-hold.command.js';
import { PurgeExpiredAuditEntriesHandler } from './application/commands/purge-expired-audit-entries.command.js';
import { RecordDisclosureHandler } from './application/commands/record-disclosure.command.js';
import { ReleaseLegalHoldHandler } from './application/commands/release-legal-hold.command.js';
import { RecordSyncRunHandler } from './application/event-handlers/record-sync-run.handler.js';
import { AuditProjector } from './application/ports/audit-projector.port.js';
import { AuditRetention } from './application/ports/audit-retention.port.js';
import { AuditTrailReadModel } from './application/ports/audit-trail-read-model.port.js';
import { DisclosureRepository } from './application/ports/disclosure.repository.js';
import { LegalHoldRepository } from './application/ports/legal-hold.repository.js';
import { ProjectAuditTrailJob } from './application/project-audit-trail.job.js';
import { RecordSyncRunsJob } from './application/record-sync-runs.job.js';
import { PurgeExpiredAuditEntriesJob } from './application/purge-expired-audit-entries.job.js';
import { GetActorAccessHandler } from './application/queries/get-actor-access.query.js';
import { ListAuditEventsHandler } from './application/queries/list-audit-events.query.js';
import { ListLegalHoldsHandler } from './application/queries/list-legal-holds.query.js';
import { ListStudentDisclosuresHandler } from './application/queries/list-student-disclosures.query.js';
import { AuditLog } from './application/ports/audit-log.port.js';
import { AuditMetrics } from './application/ports/audit-metrics.port.js';
import { PostgresAuditProjector } from './infrastructure/postgres-audit-projector.js';
import { PostgresAuditRetention } from './infrastructure/postgres-audit-retention.js';
import { PostgresAuditTrailReadModel } from './infrastructure/postgres-audit-trail.read-model.js';
import { PostgresDisclosureRepository } from './infrastructure/postgres-disclosure.repository.js';
import { PostgresLegalHoldRepository } from './infrastructure/postgres-legal-hold.repository.js';
import { PostgresAuditLog } from './infrastructure/postgres-audit-log.js';
import { PrometheusAuditMetrics } from './infrastructure/prometheus-audit.metrics.js';
import { AuditCaptureInterceptor } from './interface/http/audit-capture.interceptor.js';
import { AuditProblemRecorder } from './interface/http/audit-problem.recorder.js';
import { AuditTrailController } from './interface/http/audit-trail.controller.js';
import { DisclosuresController } from './interface/http/disclosures.controller.js';
import { AuditRouteRegistry } from './interface/http/audit-route.registry.js';
import { HttpAuditCapture } from './interface/http/http-audit.capture.js';
import { LegalHoldsController } from './interface/http/legal-holds.controller.js';
import { ComplianceRoomPolicy } from './interface/ws/compliance-room.policy.js';
import { ExportAuditBundleHandler } from './application/commands/export-audit-bundle.command.js';
import { SignAuditCheckpointHandler } from './application/commands/sign-audit-checkpoint.command.js';
import { AuditChainReader } from './application/ports/audit-chain.reader.port.js';
import { AuditCheckpointRepository } from './application/ports/audit-checkpoint.repository.js';
import { CheckpointSigner } from './application/ports/checkpoint-signer.port.js';
import { GetAuditPublicKeysHandler } from './application/queries/get-audit-public-keys.query.js';
import { ListAuditCheckpointsHandler } from './application/queries/list-audit-checkpoints.query.js';
import { VerifyAuditChainHandler } from './application/queries/verify-audit-chain.query.js';
import { AuditReadModelVerifier } from './application/ports/audit-read-model-verifier.port.js';
import { VerifyAuditReadModelsHandler } from './application/queries/verify-audit-read-models.query.js';
import { PostgresAuditReadModelVerifier } from './infrastructure/postgres-audit-read-model.verifier.js';
import { SignAuditCheckpointJob } from './application/sign-audit-checkpoint.job.js';
import { Ed25519CheckpointSigner } from './infrastructure/ed25519-checkpoint.signer.js';
import { PostgresAuditChainReader } from './infrastructure/postgres-audit-chain.reader.js';
import { PostgresAuditCheckpointRepository } from './infrastructure/postgres-audit-checkpoint.repository.js';
import { AuditIntegrityController } from './interface/http/audit-integrity.controller.js';
import { RunAuditVerificationHandler } from './application/commands/run-audit-verification.command.js';
import { AuditVerificationRepository } from './application/ports/audit-verification.repository.js';
import { GetAuditIntegrityStatusHandler } from './application/queries/get-audit-integrity-status.query.js';
import { VerifyAuditChainJob } from './application/verify-audit-chain.job.js';
import { DeliverAuditAlertJob } from './application/deliver-audit-alert.job.js';
import { AuditAlerts } from './application/ports/audit-alerts.port.js';
import { WebhookSmtpAuditAlerts } from './infrastructure/webhook-smtp.audit-alerts.js';
import { PostgresAuditVerificationRepository } from './infrastructure/postgres-audit-verification.repository.js';

/**
 * The FERPA audit trail: the hash-chained log (`AuditLog`, exported for entry points other than HTTP routes),
 * capture of every audited route, checkpoints, verification, projections, disclosures and retention.
 */
@Module({})
export class AuditModule {
  static forRole({ servesHttp }: { servesHttp: boolean }): DynamicModule {
    const core: Provider[] = [
      { provide: AuditLog, useClass: PostgresAuditLog },
      { provide: AuditMetrics, useClass: PrometheusAuditMetrics },
      { provide: TransactionRunner, useClass: MikroOrmTransactionRunner },
      // Live updates for the `compliance` room, from every role (workers publish through Redis).
      PublishAccessDeniedHandler,
      PublishVerificationFailedHandler,
      PublishProjectionFailedHandler,
    ];
    // Read models, queries, 99.32 disclosures, legal holds, retention and sync-run entries (every role: the
    // jobs and the sync-run events run wherever work is processed).
    const records: Provider[] = [
      { provide: Clock, useClass: SystemClock },
      { provide: AuditProjector, useClass: PostgresAuditProjector },
      { provide: AuditTrailReadModel, useClass: PostgresAuditTrailReadModel },
      { provide: DisclosureRepository, useClass: PostgresDisclosureRepository },
      { provide: LegalHoldRepository, useClass: PostgresLegalHoldRepository },
      { provide: AuditRetention, useClass: PostgresAuditRetention },
      ListAuditEventsHandler,
      GetActorAccessHandler,
      ListStudentDisclosuresHandler,
      ListLegalHoldsHandler,
      RecordDisclosureHandler,
      PlaceLegalHoldHandler,
      ReleaseLegalHoldHandler,
      PurgeExpiredAuditEntriesHandler,
      ProjectAuditTrailJob,
      PurgeExpiredAuditEntriesJob,
      RecordSyncRunHandler,
      RecordSyncRunsJob,
    ];
    // Signed checkpoints, verification and export (every role: the schedule runs in workers, export in the CLI).
    const integrity: Provider[] = [
      { provide: CheckpointSigner, useClass: Ed25519CheckpointSigner },
      { provide: AuditChainReader, useClass: PostgresAuditChainReader },
      { provide: AuditCheckpointRepository, useClass: PostgresAuditCheckpointRepository },
      SignAuditCheckpointHandler,
      ExportAuditBundleHandler,
      VerifyAuditChainHandler,
      { provide: AuditReadModelVerifier, useClass: PostgresAuditReadModelVerifier },
      VerifyAuditReadModelsHandler,
      ListAuditCheckpointsHandler,
      GetAuditPublicKeysHandler,
      SignAuditCheckpointJob,
      { provide: AuditVerificationRepository, useClass: PostgresAuditVerificationRepository },
      RunAuditVerificationHandler,
      GetAuditIntegrityStatusHandler,
      VerifyAuditChainJob,
      { provide: AuditAlerts, useClass: WebhookSmtpAuditAlerts },
      DeliverAuditAlertJob,
    ];
    const http: Provider[] = [
      AuditRouteRegistry,
      HttpAuditCapture,
      AuditProblemRecorder,
      { provide: APP_INTERCEPTOR, useClass: AuditCaptureInterceptor },
      ComplianceRoomPolicy,
    ];
    return {
      module: AuditModule,
      global: true,
      imports: servesHttp ? [DiscoveryModule] : [],
      controllers: servesHttp
        ? [AuditTrailController, DisclosuresController, LegalHoldsController, AuditIntegrityController]
        : [],
      providers: [...core, ...records, ...integrity, ...(servesHttp ? http : [])],
      exports: [AuditLog, AuditProjector, ...(servesHttp ? [AuditProblemRecorder] : [])],
    };
  }
}
