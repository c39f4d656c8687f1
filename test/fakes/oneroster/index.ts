export * from './oneroster-dataset.js';
export * from './district-generator.js';
export * from './oneroster-wire.js';
export * from './oauth1.js';
export * from './fake-oneroster-server.js';
export * from './oneroster-csv-writer.js';
