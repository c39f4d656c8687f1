export * from './bounded-concurrency.js';
export * from './powerschool.client.js';
export * from './powerschool.error.js';
export * from './powerschool-normalise.js';
export * from './powerschool-resources.js';
export * from './powerschool-values.js';
