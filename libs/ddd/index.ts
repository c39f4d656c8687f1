export * from './domain-error.js';
export * from './clock.port.js';
export * from './keyset-cursor.codec.js';
export * from './uuid.js';
