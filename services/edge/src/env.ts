import {
  booleanFlag,
  commaList,
  ConfigError,
  defaultInstanceId,
  instanceIdPattern,
  logLevel,
  nonNegativeInt,
  parseEnv,
  port,
  positiveInt,
  redisEnvSchema,
  requiredSecret,
} from '@agentwire/config';
import { DEFAULT_CRITICAL_EVENTS, DEFAULT_RUN_END_EVENTS, Limits } from '@agentwire/protocol';
import { z } from 'zod';
import { ingestLimitsEnvSchema } from './http/ingest-limits-env.js';

/**
 * The edge's environment (protocol.md section 7 plus the service extras).
 * Parsed once at start; a bad value throws a ConfigError naming the variable.
 */
export const edgeEnvSchema = {
  ...redisEnvSchema,
  /** HTTP + WebSocket port. @default 8080 */
  PORT: port(8080),
  /** This node's id: route field, inbox key, `welcome.node`. @default hostname plus a random suffix */
  NODE_ID: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? defaultInstanceId() : v))
    .refine((v) => instanceIdPattern.test(v), 'expected 1-64 of [A-Za-z0-9._-]'),
  /** HS256 secret of client JWTs. Required. */
  JWT_SECRET: requiredSecret(16),
  /** Bearer token of POST /v1/events and the presence endpoint. Required. */
  INGEST_TOKEN: requiredSecret(1),
  /** Time a new socket has to send `hello`. @default 5000 */
  HELLO_TIMEOUT_MS: positiveInt(5000),
  /** Time clients have to acknowledge a critical event. @default 5000 */
  ACK_TIMEOUT_MS: positiveInt(5000),
  /**
   * A connection that leaves a critical event unacknowledged for this many
   * ACK_TIMEOUT_MS is closed with 4408 so the client resumes; 0 never closes.
   * @default 3
   */
  ACK_CLOSE_MULTIPLIER: nonNegativeInt(3),
  /**
   * Users' acknowledged positions (read by the buffer's unacknowledged-event
   * webhook) are written to Redis this often, all in one round trip: an ack
   * frame itself costs no Redis call. Keep it well below UNACKED_AFTER_MS.
   * @default 1000
   */
  ACK_FLUSH_MS: positiveInt(1000),
  /** Connections per user across all nodes; 0 = unlimited. @default 5 */
  MAX_CONNECTIONS_PER_USER: nonNegativeInt(5),
  /** Open sockets on this node. @default 100000 */
  MAX_CONNECTIONS: positiveInt(100_000),
  /** Largest accepted ingest event (serialised). @default 65536 */
  MAX_EVENT_BYTES: positiveInt(Limits.defaultMaxEventBytes),
  /**
   * Largest POST /v1/events body; 0 means MAX_EVENT_BYTES * 1000 + 65536
   * (a full batch of maximal events plus JSON punctuation). @default 0
   */
  INGEST_MAX_BODY_BYTES: nonNegativeInt(0),
  /** Lifetime of a user's history; also the TTL of a fresh meta hash. @default 86400000 */
  RETENTION_MS: positiveInt(86_400_000),
  /** Event names that are critical unless the producer says otherwise. */
  CRITICAL_EVENTS: commaList(DEFAULT_CRITICAL_EVENTS),
  /** Critical event names that end a run (protocol.md section 9). */
  RUN_END_EVENTS: commaList(DEFAULT_RUN_END_EVENTS),
  /** An edge whose heartbeat is older than this is dead. @default 15000 */
  NODE_TTL_MS: positiveInt(15_000),
  /**
   * How often this node rewrites its route counts from its open sessions
   * (repairs a count left wrong by a lost reply or a failover). @default 30000
   */
  ROUTE_RECONCILE_MS: positiveInt(30_000),
  /** Spread of reconnect delays on SIGTERM. @default 10000 */
  DRAIN_WINDOW_MS: nonNegativeInt(10_000),
  /** Exit deadline after SIGTERM. @default 30000 */
  DRAIN_GRACE_MS: positiveInt(30_000),
  /** Allowed WebSocket Origins (comma list); unset allows any. */
  ALLOWED_ORIGINS: commaList([]),
  /** Idle time after which a heartbeat frame is sent. @default 25000 */
  HEARTBEAT_MS: positiveInt(25_000),
  /** Largest client frame (bytes); larger ones close with 4009. @default 65536 */
  MAX_PAYLOAD: positiveInt(Limits.defaultMaxPayload),
  /** Send buffer above which non-critical events are dropped. @default 262144 */
  SEND_BUFFER_SOFT_BYTES: positiveInt(256 * 1024),
  /** Send buffer above which the socket is closed with 4408. @default 1048576 */
  SEND_BUFFER_HARD_BYTES: positiveInt(1024 * 1024),
  /** Upstream `publish` idempotency window per (user, id). @default 86400000 */
  UPSTREAM_IDEMPOTENCY_MS: positiveInt(86_400_000),
  /** Approximate MAXLEN of the upstream stream. @default 1000000 */
  UPSTREAM_MAXLEN: positiveInt(1_000_000),
  /** Sustained `publish` frames per second per connection (token bucket refill). @default 20 */
  UPSTREAM_RATE_PER_SEC: positiveInt(20),
  /** `publish` frames a connection may send at once (token bucket size). @default 40 */
  UPSTREAM_BURST: positiveInt(40),
  /** Replay page size (log entries per read). @default 500 */
  REPLAY_PAGE_SIZE: positiveInt(500).refine((v) => v <= 10_000, 'expected at most 10000'),
  /** Start even when uWebSockets.js loaded its slow JavaScript fallback. @default false */
  ALLOW_UWS_FALLBACK: booleanFlag(false),
  /** Directory served under GET /demo/ when set. */
  DEMO_DIR: z.string().optional(),
  ...ingestLimitsEnvSchema,
  /** @default info */
  LOG_LEVEL: logLevel,
};

export type EdgeEnv = ReturnType<typeof parseEdgeEnv>;

/** Parses and cross-checks the edge's environment. */
export function parseEdgeEnv(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(edgeEnvSchema, env);
  const issues: Array<{ variable: string; problem: string }> = [];
  if (parsed.SEND_BUFFER_SOFT_BYTES >= parsed.SEND_BUFFER_HARD_BYTES) {
    issues.push({
      variable: 'SEND_BUFFER_SOFT_BYTES',
      problem: `must be below SEND_BUFFER_HARD_BYTES (${parsed.SEND_BUFFER_HARD_BYTES})`,
    });
  }
  if (parsed.DRAIN_WINDOW_MS >= parsed.DRAIN_GRACE_MS) {
    // The last reconnect of the spread must leave time to finish before the exit deadline.
    issues.push({
      variable: 'DRAIN_WINDOW_MS',
      problem: `must be below DRAIN_GRACE_MS (${parsed.DRAIN_GRACE_MS})`,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({
    ...parsed,
    INGEST_MAX_BODY_BYTES: parsed.INGEST_MAX_BODY_BYTES || parsed.MAX_EVENT_BYTES * 1000 + 65536,
    INGEST_BURST: parsed.INGEST_BURST || parsed.INGEST_RATE_PER_SEC,
  });
}
