export * from './logger.js';
export * from './metrics-registry.js';
