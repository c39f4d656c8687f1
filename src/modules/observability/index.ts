export { MetricsRegistry } from './infrastructure/metrics-registry.js';
export { MetricsServer } from './infrastructure/metrics-server.js';
export { installHttpMetrics } from './interface/http/http-metrics.middleware.js';
export { ObservabilityModule } from './observability.module.js';
