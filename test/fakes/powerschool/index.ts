export * from './powerschool-dataset.js';
export * from './powerschool-district-generator.js';
export * from './fake-powerschool-server.js';
