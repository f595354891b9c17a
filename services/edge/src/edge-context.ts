import type { KeyLayout, RedisClient, ReplicationPolicy } from '@agentwire/redis';
import type { Logger } from '@agentwire/telemetry';
import type { AckPositions } from './ack-positions.js';
import type { SessionOps } from './session-ops.js';
import type { ConnectionRegistry } from './connection-registry.js';
import type { EdgeEnv } from './env.js';
import type { ExpiredNodes } from './expired-nodes.js';
import type { JwtVerifier } from './jwt-verifier.js';
import type { EdgeMetrics } from './metrics.js';
import type { Connection, ConnectionShared } from './ws/connection.js';
import type { UpstreamPublisher } from './ws/upstream-publisher.js';

/** What the edge's handlers share. Built once in main.ts. */
export interface EdgeContext {
  readonly env: EdgeEnv;
  readonly nodeId: string;
  readonly keys: KeyLayout;
  /** Commands: sessions, replay pages, heartbeats, presence, inbox trims. */
  readonly redis: RedisClient;
  /** Ingest appends: no offline queue, so a Redis outage answers 503 at once. */
  readonly ingestRedis: RedisClient;
  /** MIN_REPLICAS / REPLICA_WAIT_MS: a 202 or `accepted` only once replicated. */
  readonly replication: ReplicationPolicy;
  readonly registry: ConnectionRegistry<Connection>;
  /** openSession / closeSession calls in flight per user (the route reconciler skips those users). */
  readonly sessionOps: SessionOps;
  /** Every open socket, welcomed or not (heartbeats, drain). */
  readonly connections: Set<Connection>;
  readonly connectionShared: ConnectionShared;
  readonly metrics: EdgeMetrics;
  readonly logger: Logger;
  readonly jwt: JwtVerifier;
  readonly criticalNames: ReadonlySet<string>;
  /** Critical names that end a run (RUN_END_EVENTS). */
  readonly runEndNames: ReadonlySet<string>;
  /** Users' acknowledged positions, written to Redis once a second. */
  readonly ackPositions: AckPositions;
  /** Client `publish` frames to the upstream stream. */
  readonly upstream: UpstreamPublisher;
  /** Dead, not yet reaped edge nodes (cached): the per-user limit ignores their routes. */
  readonly expiredNodes: ExpiredNodes;
  /** Session work in flight (opening, replay, closeSession, SREM, publish); shutdown waits for it. */
  readonly inFlight: Set<Promise<void>>;
  draining: boolean;
}
