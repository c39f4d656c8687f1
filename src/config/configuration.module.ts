import { Global, Module, type DynamicModule } from '@nestjs/common';
import { AlertsConfig, loadAlertsConfig } from './alerts.config.js';
import { AppConfig, loadAppConfig } from './app.config.js';
import { AuditConfig, loadAuditConfig } from './audit.config.js';
import { AuthConfig, loadAuthConfig } from './auth.config.js';
import { DatabaseConfig, loadDatabaseConfig } from './database.config.js';
import { loadMetricsConfig, MetricsConfig } from './metrics.config.js';
import { loadRealtimeConfig, RealtimeConfig } from './realtime.config.js';
import { loadRedisConfig, RedisConfig } from './redis.config.js';
import { loadRosterConfig, RosterConfig } from './roster.config.js';
import { loadSisSyncConfig, SisSyncConfig } from './sis-sync.config.js';

export interface LoadedConfiguration {
  app: AppConfig;
  auth: AuthConfig;
  database: DatabaseConfig;
  redis: RedisConfig;
  metrics: MetricsConfig;
  sisSync: SisSyncConfig;
  alerts: AlertsConfig;
  audit: AuditConfig;
  realtime: RealtimeConfig;
  roster: RosterConfig;
}

/** Validates every concern up front, so a bad setting stops the process before it serves anything. */
export function loadConfiguration(env: NodeJS.ProcessEnv): LoadedConfiguration {
  const app = loadAppConfig(env);
  const database = loadDatabaseConfig(env);
  return {
    app,
    auth: loadAuthConfig(env, { isProduction: app.isProduction }),
    database,
    redis: loadRedisConfig(env),
    metrics: loadMetricsConfig(env),
    sisSync: loadSisSyncConfig(env, {
      isProduction: app.isProduction,
      databasePoolMax: database.poolMax,
    }),
    alerts: loadAlertsConfig(env, { isProduction: app.isProduction }),
    audit: loadAuditConfig(env, { isProduction: app.isProduction }),
    realtime: loadRealtimeConfig(env),
    roster: loadRosterConfig(env),
  };
}

/** Each concern's settings are injectable by their class, e.g. `constructor(private readonly auth: AuthConfig)`. */
@Global()
@Module({})
export class ConfigurationModule {
  static forRoot(configuration: LoadedConfiguration): DynamicModule {
    const providers = [
      { provide: AppConfig, useValue: configuration.app },
      { provide: AuthConfig, useValue: configuration.auth },
      { provide: DatabaseConfig, useValue: configuration.database },
      { provide: RedisConfig, useValue: configuration.redis },
      { provide: MetricsConfig, useValue: configuration.metrics },
      { provide: SisSyncConfig, useValue: configuration.sisSync },
      { provide: AlertsConfig, useValue: configuration.alerts },
      { provide: AuditConfig, useValue: configuration.audit },
      { provide: RealtimeConfig, useValue: configuration.realtime },
      { provide: RosterConfig, useValue: configuration.roster },
    ];
    return { module: ConfigurationModule, providers, exports: providers.map((provider) => provider.provide) };
  }
}
