import { DEFAULT_RUN_END_EVENTS } from '@agentwire/protocol';
import { DEFAULT_MAX_DELAY_MS, DEFAULT_MIN_DELAY_MS, type BackoffOptions } from './backoff.js';
import { ConfigError } from './errors.js';
import { memoryStore, type PositionStore } from './position-store.js';
import { systemTimers, type Timers } from './timers.js';
import { randomPublishId } from './publish-id.js';
import { SseSocket, type EventSourceConstructor, type FetchFunction } from './sse-socket.js';
import type { WebSocketConstructor, WebSocketLike } from './web-socket-like.js';

/**
 * How the client reaches the edge: a WebSocket (`/v1/ws`), Server-Sent
 * Events plus HTTP (`/v1/sse`, `/v1/ack`, `/v1/publish`), or `auto`:
 * WebSocket first, SSE for the rest of the client's life once
 * AUTO_SSE_AFTER_FAILURES WebSocket attempts in a row failed before their
 * welcome (a proxy that strips upgrades).
 */
export type Transport = 'websocket' | 'sse' | 'auto';

/** Consecutive WebSocket attempts failing before welcome after which `auto` switches to SSE. */
export const AUTO_SSE_AFTER_FAILURES = 3;

/** The server's default ACK_TIMEOUT_MS (protocol.md section 3). */
export const ACK_TIMEOUT_MS = 5000;

export interface ClientOptions {
  /**
   * WebSocket endpoint(s), e.g. `wss://events.example.com/v1/ws` (SSE uses
   * the same host: `/v1/ws` becomes `/v1/sse`; an `https://` base works too). One load
   * balancer URL, or a list of edge URLs tried in rotation: each connection
   * attempt uses the next one, starting at a random entry.
   */
  url: string | readonly string[];
  /**
   * Returns the JWT sent in `hello`. Called at `connect()` and again after the
   * server closed with 4001 (bad or expired token), before one fresh retry.
   * Return '' when the socket authenticates on upgrade instead (a Node
   * `WebSocket` that sends `Authorization: Bearer`): hello then has no token.
   */
  getToken: () => string | Promise<string>;
  /**
   * Where the processed position is kept between sessions.
   * @default memoryStore() (a new client starts live)
   */
  store?: PositionStore;
  /** Reconnect delays (full jitter). @default { minDelayMs: 100, maxDelayMs: 10000 } */
  backoff?: BackoffOptions;
  /**
   * Acks are cumulative and batched: one is sent at most this long after an
   * event's handler finished. Must stay within half the server's ack timeout
   * so a batch never makes an event look unacknowledged. 0 acks every event.
   * @default 1000
   */
  ackIntervalMs?: number;
  /**
   * Most unsettled publishes held while not connected; `publish()` beyond it
   * rejects with `OfflineQueueFullError`.
   * @default 100
   */
  maxOfflineQueue?: number;
  /**
   * How long one attempt may take from opening the socket to the welcome.
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * WebSocket implementation. Browsers: omit (the global one). Node 20: pass
   * `WebSocket` from the `ws` package.
   * @default globalThis.WebSocket
   */
  WebSocket?: WebSocketConstructor;
  /** @default 'websocket' */
  transport?: Transport;
  /**
   * The SSE reader. Browsers: omit (the global EventSource). Node: omit to
   * read the stream with fetch (no EventSource needed).
   * @default globalThis.EventSource, else fetch
   */
  EventSource?: EventSourceConstructor;
  /** fetch for the SSE transport's requests. @default globalThis.fetch */
  fetch?: FetchFunction;
  /**
   * Names of the critical events that end a run: the server's RUN_END_EVENTS.
   * @default ['agent_completed', 'agent_error']
   */
  runEndEvents?: readonly string[];
  /**
   * Most runs the client keeps (`getRun`, `runs()`); beyond it the run
   * updated longest ago is dropped.
   * @default 100 (the server's RUN_MAX_PER_USER default)
   */
  maxRuns?: number;
  /**
   * Longest text kept per run stream, in UTF-16 code units; past it the text
   * is cut and the stream says `truncated` (as the server's snapshot does
   * past RUN_MAX_BYTES).
   * @default 1048576
   */
  maxRunTextLength?: number;
  /** Clock and timers, for tests. @default the global ones */
  timers?: Timers;
  /** Random source in [0, 1) for backoff jitter and the first URL, for tests. @default Math.random */
  random?: () => number;
  /** Publish id generator. @default 128 random bits, hex */
  generateId?: () => string;
}

export interface ResolvedOptions {
  urls: readonly string[];
  getToken: () => string | Promise<string>;
  store: PositionStore;
  minDelayMs: number;
  maxDelayMs: number;
  ackIntervalMs: number;
  maxOfflineQueue: number;
  connectTimeoutMs: number;
  /** Undefined only with transport 'sse'. */
  WebSocket: WebSocketConstructor | undefined;
  transport: Transport;
  /** Opens the SSE transport to one URL. */
  createSse: (url: string) => WebSocketLike;
  runEndEvents: readonly string[];
  maxRuns: number;
  maxRunTextLength: number;
  timers: Timers;
  random: () => number;
  generateId: () => string;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new ConfigError(message);
}

const isNonNegativeInt = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

/** Applies defaults and validates; throws ConfigError naming the bad option. */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  const urls = typeof options.url === 'string' ? [options.url] : [...options.url];
  check(urls.length > 0, 'url: at least one WebSocket URL is required');
  check(
    urls.every((u) => typeof u === 'string' && u.length > 0),
    'url: every URL must be a non-empty string',
  );
  check(
    typeof options.getToken === 'function',
    'getToken: a function returning the JWT is required',
  );

  const minDelayMs = options.backoff?.minDelayMs ?? DEFAULT_MIN_DELAY_MS;
  const maxDelayMs = options.backoff?.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  check(isNonNegativeInt(minDelayMs) && minDelayMs > 0, 'backoff.minDelayMs: a positive integer');
  check(
    isNonNegativeInt(maxDelayMs) && maxDelayMs >= minDelayMs,
    'backoff.maxDelayMs: an integer at least backoff.minDelayMs',
  );

  const ackIntervalMs = options.ackIntervalMs ?? 1000;
  check(
    isNonNegativeInt(ackIntervalMs) && ackIntervalMs <= ACK_TIMEOUT_MS / 2,
    `ackIntervalMs: an integer from 0 to ${ACK_TIMEOUT_MS / 2} (half the server's ack timeout)`,
  );
  const maxOfflineQueue = options.maxOfflineQueue ?? 100;
  check(isNonNegativeInt(maxOfflineQueue), 'maxOfflineQueue: a non-negative integer');
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  check(
    isNonNegativeInt(connectTimeoutMs) && connectTimeoutMs > 0,
    'connectTimeoutMs: a positive integer',
  );

  const WebSocketImpl =
    options.WebSocket ??
    (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ??
    undefined;
  const transport = options.transport ?? 'websocket';
  check(
    transport === 'websocket' || transport === 'sse' || transport === 'auto',
    "transport: 'websocket', 'sse' or 'auto'",
  );
  check(
    WebSocketImpl !== undefined || transport === 'sse',
    'WebSocket: no global WebSocket here; pass one (in Node 20: `import WebSocket from "ws"`)',
  );
  const fetchImpl = options.fetch ?? (globalThis as { fetch?: FetchFunction }).fetch;
  check(
    fetchImpl !== undefined || transport === 'websocket',
    'fetch: no global fetch here; pass one for the SSE transport',
  );
  const sseOptions = {
    EventSource:
      options.EventSource ??
      (globalThis as { EventSource?: EventSourceConstructor }).EventSource ??
      undefined,
    fetch: fetchImpl as FetchFunction,
  };

  const runEndEvents = options.runEndEvents ?? DEFAULT_RUN_END_EVENTS;
  check(
    Array.isArray(runEndEvents) &&
      runEndEvents.every((name) => typeof name === 'string' && name.length > 0),
    'runEndEvents: a list of event names',
  );
  const maxRuns = options.maxRuns ?? 100;
  check(isNonNegativeInt(maxRuns) && maxRuns > 0, 'maxRuns: a positive integer');
  const maxRunTextLength = options.maxRunTextLength ?? 1_048_576;
  check(
    isNonNegativeInt(maxRunTextLength) && maxRunTextLength > 0,
    'maxRunTextLength: a positive integer',
  );

  return {
    urls,
    getToken: options.getToken,
    store: options.store ?? memoryStore(),
    minDelayMs,
    maxDelayMs,
    ackIntervalMs,
    maxOfflineQueue,
    connectTimeoutMs,
    WebSocket: WebSocketImpl,
    transport,
    createSse: (url) => new SseSocket(url, sseOptions),
    runEndEvents: [...runEndEvents],
    maxRuns,
    maxRunTextLength,
    timers: options.timers ?? systemTimers,
    random: options.random ?? Math.random,
    generateId: options.generateId ?? randomPublishId,
  };
}
