export * from './close-codes.js';
export * from './decode-client-frame.js';
export * from './error-codes.js';
export * from './frames.js';
export * from './ingest-event.js';
export * from './json-depth.js';
export * from './limits.js';
export * from './protocol-error.js';
