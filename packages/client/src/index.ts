/**
 * @agentwire/client: browser and Node SDK for agentwire.
 *
 * ```ts
 * const client = new AgentwireClient({ url: 'wss://events.example.com/v1/ws', getToken });
 * client.on('event', async (event) => render(event));
 * client.on('run', (run) => renderRun(run)); // status and text streams of agent runs
 * client.connect();
 * ```
 */
export {
  AgentwireClient,
  type ClientEvents,
  type DisconnectInfo,
  type GapInfo,
  type ResyncInfo,
} from './client.js';
export {
  ACK_TIMEOUT_MS,
  AUTO_SSE_AFTER_FAILURES,
  type ClientOptions,
  type Transport,
} from './client-options.js';
export type { EventSourceConstructor, EventSourceLike, FetchFunction } from './sse-socket.js';
export { ClientState, type StateChange } from './client-state.js';
export {
  backoffCeiling,
  backoffDelay,
  DEFAULT_MAX_DELAY_MS,
  DEFAULT_MIN_DELAY_MS,
  type BackoffOptions,
} from './backoff.js';
export * from './errors.js';
export type { Position } from './position.js';
export { memoryStore, type PositionStore } from './position-store.js';
export { localStorageStore, type StorageLike } from './local-storage-store.js';
export type { PublishOptions, PublishResult } from './publish-tracker.js';
export type { RunStreamView, RunView } from './run-view.js';
export type { Listener } from './typed-emitter.js';
export type { Timers, TimerHandle } from './timers.js';
export type { WebSocketConstructor, WebSocketLike } from './web-socket-like.js';
export type {
  EventFrame,
  JsonValue,
  RunStatus,
  SnapshotFrame,
  WelcomeFrame,
} from '@agentwire/protocol';
