export * from './demo-run.js';
export * from './http-publisher.js';
export * from './publisher-errors.js';
export * from './run-writer.js';
export * from './upstream-reader.js';
