export * from './problem-details.js';
export * from './problem-details.filter.js';
export * from './request-validation.error.js';
export * from './validation.pipe.js';
export * from './redis-throttler.storage.js';
export * from './hostile-input.guard.js';
export * from './api-problems.decorator.js';
export * from './openapi-contract.js';
