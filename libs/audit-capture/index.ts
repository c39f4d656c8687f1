export * from './audit-policy.js';
