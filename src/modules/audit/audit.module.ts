import { MikroOrmTransactionRunner, TransactionRunner } from '@app/persistence';
import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { AuditLog } from './application/ports/audit-log.port.js';
import { AuditMetrics } from './application/ports/audit-metrics.port.js';
import { PostgresAuditLog } from './infrastructure/postgres-audit-log.js';
import { PrometheusAuditMetrics } from './infrastructure/prometheus-audit.metrics.js';
import { AuditCaptureInterceptor } from './interface/http/audit-capture.interceptor.js';
import { AuditProblemRecorder } from './interface/http/audit-problem.recorder.js';
import { AuditRouteRegistry } from './interface/http/audit-route.registry.js';
import { HttpAuditCapture } from './interface/http/http-audit.capture.js';

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
    ];
    const http: Provider[] = [
      AuditRouteRegistry,
      HttpAuditCapture,
      AuditProblemRecorder,
      { provide: APP_INTERCEPTOR, useClass: AuditCaptureInterceptor },
    ];
    return {
      module: AuditModule,
      global: true,
      imports: servesHttp ? [DiscoveryModule] : [],
      controllers: [],
      providers: [...core, ...(servesHttp ? http : [])],
      exports: [AuditLog, ...(servesHttp ? [AuditProblemRecorder] : [])],
    };
  }
}
