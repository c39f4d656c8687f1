export * from './csv-writer.js';
