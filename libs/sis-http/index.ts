export * from './address-policy.js';
export * from './guarded-fetch.js';
export * from './retry-backoff.js';
export * from './server-url.js';
export * from './sis-http.transport.js';
