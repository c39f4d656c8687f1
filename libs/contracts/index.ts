export * from './integration-events.js';
export * from './job-catalogue.js';
export * from './realtime-events.js';
export * from './roster-records.js';
export * from './school-scope.js';
export * from './operations-status.js';
