import { z } from 'zod';
import { booleanFromEnv, emptyAsUndefined, parseEnv } from './env-parsing.js';

const metricsSchema = z.object({
  METRICS_ENABLED: z.preprocess(emptyAsUndefined, booleanFromEnv.default(true)),
  METRICS_HOST: z.string().default('0.0.0.0'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  METRICS_STATUS_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
});

export abstract class MetricsConfig {
  abstract readonly enabled: boolean;
  abstract readonly host: string;
  /** Separate from the public port so /metrics is never exposed with the API. */
  abstract readonly port: number;
  /**
   * How long a scrape reuses the operational gauges read from the database (sync state, audit checkpoint and
   * verification, dead letters), so a storm of scrapes costs a few queries every this many seconds at most.
   */
  abstract readonly statusCacheSeconds: number;
}

export function loadMetricsConfig(source: NodeJS.ProcessEnv): MetricsConfig {
  const env = parseEnv('metrics', metricsSchema, source);
  return {
    enabled: env.METRICS_ENABLED,
    host: env.METRICS_HOST,
    port: env.METRICS_PORT,
    statusCacheSeconds: env.METRICS_STATUS_CACHE_SECONDS,
  };
}
