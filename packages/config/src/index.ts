export * from './config-error.js';
export * from './env-fields.js';
export * from './node-id.js';
export * from './parse-env.js';
export * from './redis-env.js';
