export * from './logger.js';
export * from './metrics-registry.js';
export * from './graceful-stop.js';
