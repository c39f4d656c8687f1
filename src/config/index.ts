export * from './alerts.config.js';
export * from './app.config.js';
export * from './auth.config.js';
export * from './configuration.module.js';
export * from './database.config.js';
export * from './metrics.config.js';
export * from './redis.config.js';
export * from './sis-sync.config.js';
