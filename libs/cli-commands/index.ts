export * from './cli-catalogue.js';
export * from './cli-command.js';
export * from './cli-output.js';
export * from './pre-boot-parser.js';
