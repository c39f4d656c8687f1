export * from './bullmq-job-queue.js';
export * from './job-handler.decorator.js';
export * from './job-handler.registry.js';
export * from './job-queue.port.js';
export * from './pg-boss-job-queue.js';
export * from './pg-boss-schema.js';
export * from './queue-unavailable.error.js';
export * from './queue.module.js';
