export * from './eventually.js';
export * from './in-memory-job-queue.js';
export * from './test-database.js';
export * from './test-redis.js';
