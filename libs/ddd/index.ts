export * from './domain-error.js';
export * from './clock.port.js';
