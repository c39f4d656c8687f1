export * from './database-outage.js';
export { EmbeddedDataDirError } from './embedded-data-dir.js';
export * from './embedded-postgres.js';
export * from './migration-runner.js';
export * from './orm-options.js';
export * from './persistence.module.js';
export * from './runtime-role-guard.js';
export * from './sql.js';
export * from './transaction-runner.js';
