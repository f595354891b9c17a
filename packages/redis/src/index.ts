export * from './inbox-stream.js';
export * from './ingest-stream.js';
export * from './key-layout.js';
export * from './lua-script.js';
export * from './redis-client.js';
export * from './session-store.js';
export * from './shard-agreement.js';
export * from './upstream-stream.js';
