export * from './bundle-export.js';
export * from './bundle-format.js';
export * from './bundle-verify.js';
export * from './canonical-json.js';
export * from './chain-hash.js';
export * from './chain-verifier.js';
export * from './checkpoint.js';
export * from './signing-key.js';
