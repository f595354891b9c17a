export * from './demo-run.js';
export * from './http-publisher.js';
export * from './upstream-reader.js';
