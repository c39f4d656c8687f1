import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisConfig } from '../../config/index.js';
import { RetryDeadLetterJobHandler } from './application/commands/retry-dead-letter-job.command.js';
import { GetQueueCountsHandler, ListDeadLetterJobsHandler } from './application/queries/job-operations.queries.js';
import { MetricsRegistry } from './infrastructure/metrics-registry.js';
import { MetricsServer } from './infrastructure/metrics-server.js';
import { OperationalStatusCollector } from './infrastructure/operational-status.collector.js';
import { QueueMetricsCollector } from './infrastructure/queue-metrics.collector.js';
import { RedisHealthConnection } from './infrastructure/redis-health.connection.js';
import { HealthController } from './interface/http/health.controller.js';
import { JobOperationsController } from './interface/http/job-operations.controller.js';

export interface ObservabilityOptions {
  servesHttp: boolean;
  /** The CLI loads the module graph but serves no metrics. */
  servesMetrics: boolean;
}

@Global()
@Module({})
export class ObservabilityModule {
  static forRole({ servesHttp, servesMetrics }: ObservabilityOptions): DynamicModule {
    const providers: Provider[] = [MetricsRegistry, QueueMetricsCollector, OperationalStatusCollector];
    if (servesMetrics) providers.push(MetricsServer);
    if (servesHttp) {
      providers.push(ListDeadLetterJobsHandler, GetQueueCountsHandler, RetryDeadLetterJobHandler, {
        provide: RedisHealthConnection,
        inject: [RedisConfig],
        useFactory: (redis: RedisConfig) => (redis.url ? new RedisHealthConnection(redis.url) : undefined),
      });
    }
    return {
      module: ObservabilityModule,
      imports: servesHttp ? [TerminusModule] : [],
      controllers: servesHttp ? [HealthController, JobOperationsController] : [],
      providers,
      exports: [MetricsRegistry],
    };
  }
}
