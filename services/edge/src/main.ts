import { ConfigError, redisSettings } from '@agentwire/config';
import {
  closeRedisClient,
  createBlockingClient,
  createKeyLayout,
  createRedisClient,
  removeNodeState,
  waitForReady,
  type KeyLayout,
  type RedisClient,
} from '@agentwire/redis';
import {
  createLogger,
  createMetricsRegistry,
  installGracefulStop,
  type Logger,
} from '@agentwire/telemetry';
import uWS from 'uWebSockets.js';
import { AckPositions } from './ack-positions.js';
import { ConnectionRegistry } from './connection-registry.js';
import { drainConnections } from './drain.js';
import type { EdgeContext } from './edge-context.js';
import { createEdgeServer } from './edge-server.js';
import { parseEdgeEnv, type EdgeEnv } from './env.js';
import { startExpiredNodes } from './expired-nodes.js';
import { createInboxDispatcher } from './inbox-dispatcher.js';
import { readInboxStartId, startInboxReader } from './inbox-reader.js';
import { createJwtVerifier } from './jwt-verifier.js';
import { createEdgeMetrics } from './metrics.js';
import { startNodeHeartbeat } from './node-heartbeat.js';
import { reconcileRoutes, runRouteReconciler } from './route-reconciler.js';
import { SessionOps } from './session-ops.js';
import { checkShardAgreement } from './shard-agreement.js';
import { isNativeUws } from './uws-native-check.js';
import type { Connection } from './ws/connection.js';
import { startConnectionSweeper } from './ws/connection-sweeper.js';
import { startHeartbeatSweeper } from './ws/heartbeat-sweeper.js';
import { serveOwedSnapshots } from './ws/run-snapshots.js';
import { catchUpFromLog } from './ws/session-opener.js';
import { createUpstreamPublisher } from './ws/upstream-publisher.js';

/** How long start-up waits for Redis before giving up (the orchestrator restarts us). */
const REDIS_STARTUP_TIMEOUT_MS = 30_000;
/** Live events held per connection while it replays. */
const QUEUE_MAX_ITEMS = 10_000;
/** Unacknowledged seqs tracked per connection. */
const ACK_TRACK_CAPACITY = 1024;
/** Rejected publish frames within the window below that close a connection with 4029. */
const RATE_LIMIT_CLOSE_AFTER = 10;
const RATE_LIMIT_VIOLATION_WINDOW_MS = 10_000;

async function main(): Promise<void> {
  const env = loadEnv();
  const logger = createLogger({ service: 'edge', instance: env.NODE_ID, level: env.LOG_LEVEL });
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled rejection'),
  );

  if (!isNativeUws(uWS)) {
    if (!env.ALLOW_UWS_FALLBACK) {
      logger.fatal(
        'uWebSockets.js loaded its JavaScript fallback (native binary not loadable on this ' +
          `Node ${process.version} ${process.platform}-${process.arch}, or UWS_USE_FALLBACK set); ` +
          'refusing to start. Use Node 20 on Debian 12 (glibc), or set ALLOW_UWS_FALLBACK=true.',
      );
      process.exit(1);
    }
    logger.warn(
      'running on the uWebSockets.js JavaScript fallback (ALLOW_UWS_FALLBACK=true): slow',
    );
  }

  const settings = redisSettings(env);
  const keys = createKeyLayout(settings.keyPrefix, settings.shards);
  const redis = createRedisClient(settings.target, { name: `${env.NODE_ID}:cmd` });
  const ingestRedis = createRedisClient(settings.target, {
    name: `${env.NODE_ID}:ingest`,
    offlineQueue: false,
  });
  const inboxRedis = createBlockingClient(settings.target, `${env.NODE_ID}:inbox`);
  for (const [name, client] of [
    ['cmd', redis],
    ['ingest', ingestRedis],
    ['inbox', inboxRedis],
  ] as const) {
    logRedisErrors(client, name, logger);
  }

  try {
    await Promise.all([redis, ingestRedis].map((c) => waitForReady(c, REDIS_STARTUP_TIMEOUT_MS)));
  } catch (error) {
    logger.fatal({ err: error, redis: settings.target }, 'Redis unreachable at start-up');
    process.exit(1);
  }
  const shards = await checkShardAgreement(redis, keys, env.SHARDS);
  if (!shards.ok) {
    logger.fatal(
      `SHARDS=${env.SHARDS} differs from the value this Redis (prefix ${keys.prefix}) already ` +
        `uses (${shards.stored}); every edge and buffer must use the same SHARDS`,
    );
    process.exit(1);
  }

  const metrics = createEdgeMetrics(
    createMetricsRegistry({ service: 'edge', instance: env.NODE_ID }),
  );
  const loops = new AbortController();
  const registry = new ConnectionRegistry<Connection>();
  const sessionOps = new SessionOps();
  const routes = { client: redis, keys, nodeId: env.NODE_ID, registry, sessionOps };
  // Alive first: a reaper that sees the fresh heartbeat leaves this node id alone.
  await startNodeHeartbeat({
    client: redis,
    keys,
    nodeId: env.NODE_ID,
    ttlMs: env.NODE_TTL_MS,
    logger,
    signal: loops.signal,
    onRevived: async () => {
      const users = await reconcileRoutes(routes);
      // Routes first, then the log: whatever was persisted while they were
      // gone (forwarded to nobody) is in what the connections read now.
      for (const [, connections] of registry.entries()) {
        for (const conn of connections) conn.catchUpMissed();
      }
      if (users > 0) logger.warn({ users }, 'node was taken for dead; routes restored');
    },
  });
  await removePreviousNodeState(redis, keys, env.NODE_ID, logger);
  const expiredNodes = await startExpiredNodes({
    client: redis,
    keys,
    nodeId: env.NODE_ID,
    ttlMs: env.NODE_TTL_MS,
    logger,
    signal: loops.signal,
  });

  const inFlight = new Set<Promise<void>>();
  const ctx: EdgeContext = {
    env,
    nodeId: env.NODE_ID,
    keys,
    redis,
    ingestRedis,
    replication: settings.replication,
    registry,
    sessionOps,
    connections: new Set(),
    connectionShared: {
      limits: {
        softBytes: env.SEND_BUFFER_SOFT_BYTES,
        hardBytes: env.SEND_BUFFER_HARD_BYTES,
        queueMaxItems: QUEUE_MAX_ITEMS,
        queueMaxBytes: env.SEND_BUFFER_HARD_BYTES,
        ackTrackCapacity: ACK_TRACK_CAPACITY,
        publish: {
          ratePerSec: env.UPSTREAM_RATE_PER_SEC,
          burst: env.UPSTREAM_BURST,
          closeAfterViolations: RATE_LIMIT_CLOSE_AFTER,
          violationWindowMs: RATE_LIMIT_VIOLATION_WINDOW_MS,
        },
      },
      metrics,
      catchUp: (conn) => catchUpFromLog(ctx, conn),
      serveOwedSnapshots: (conn) => serveOwedSnapshots(ctx, conn),
      observeAckMs: (ms) => metrics.ackLatency.observe(ms / 1000),
    },
    metrics,
    logger,
    jwt: createJwtVerifier(env.JWT_SECRET),
    criticalNames: new Set(env.CRITICAL_EVENTS),
    runEndNames: new Set(env.RUN_END_EVENTS),
    ackPositions: new AckPositions({
      client: redis,
      keys,
      signal: loops.signal,
      flushIntervalMs: env.ACK_FLUSH_MS,
    }),
    upstream: createUpstreamPublisher({
      client: ingestRedis,
      keys,
      idempotencyMs: env.UPSTREAM_IDEMPOTENCY_MS,
      maxLen: env.UPSTREAM_MAXLEN,
      metrics,
      logger,
      inFlight,
      replication: settings.replication,
    }),
    expiredNodes,
    inFlight,
    draining: false,
  };

  // Read before listening: every entry appended from here on is for this process's sockets.
  const startId = await readInboxStartId(redis, keys.inbox(env.NODE_ID));
  const reader = startInboxReader({
    blockingClient: inboxRedis,
    trimClient: redis,
    key: keys.inbox(env.NODE_ID),
    startId,
    onEntries: createInboxDispatcher(registry, metrics),
    logger,
    signal: loops.signal,
  });
  startHeartbeatSweeper(ctx.connections, env.HEARTBEAT_MS, loops.signal);
  const reconciling = runRouteReconciler(routes, env.ROUTE_RECONCILE_MS, logger, loops.signal);
  startConnectionSweeper({
    connections: ctx.connections,
    ackTimeoutMs: env.ACK_TIMEOUT_MS,
    ackCloseMultiplier: env.ACK_CLOSE_MULTIPLIER,
    metrics,
    signal: loops.signal,
  });

  const server = createEdgeServer(ctx);
  const port = await server.listen(env.PORT);
  logger.info({ port, nodeId: env.NODE_ID, shards: env.SHARDS, prefix: keys.prefix }, 'listening');

  installGracefulStop({
    logger,
    graceMs: env.DRAIN_GRACE_MS,
    stop: async (steps) => {
      logger.info({ connections: ctx.connections.size }, 'draining');
      // Not ready at once (the balancer stops sending), then no new connections.
      ctx.draining = true;
      server.stopListening();
      // Reconnects spread over DRAIN_WINDOW_MS; live delivery goes on meanwhile.
      const drained = await steps.run('drain connections', () =>
        drainConnections(ctx.connections, env.DRAIN_WINDOW_MS),
      );
      logger.info({ connections: drained }, 'connections drained');
      // The steps below wait on Redis: each gets a share of what is left of
      // DRAIN_GRACE_MS, so the stop ends in time even when Redis never answers.
      // Ingest requests already received finish (they may be durable already).
      await steps.run('ingest requests in flight', () => server.ingestIdle(), steps.budgetMs(0.4));
      // Route clean-ups (closeSession) of the closed sockets, sessions still
      // opening, publishes in flight. Those given up on are left to the
      // reaper, which removes this node's routes once its heartbeat expires.
      await steps.run(
        'route clean-ups and publishes in flight',
        async () => {
          while (ctx.inFlight.size > 0) await Promise.all([...ctx.inFlight]);
        },
        steps.budgetMs(0.5),
      );
      // The last acknowledged positions.
      await steps.run(
        'flush acknowledged positions',
        () => ctx.ackPositions.flush(),
        Math.min(1000, steps.budgetMs(0.5)),
      );
      loops.abort();
      // The reader races its pending XREAD against the abort: it ends at once.
      await steps.run(
        'inbox reader and route reconciler',
        () => Promise.all([reader.done, reconciling]),
        steps.budgetMs(0.5),
      );
      await Promise.all(
        [redis, ingestRedis].map((c) => closeRedisClient(c, Math.min(1000, steps.budgetMs(0.5)))),
      );
    },
  });
}

/**
 * NODE_ID is stable across restarts in some deployments (Kubernetes: the pod
 * name, kept when a container restarts). Whatever a previous process with
 * this id left (routes in its users, its user set, its inbox) describes
 * sockets that no longer exist: remove it before listening, rather than
 * waiting for the reaper, which never comes while this id heartbeats.
 */
async function removePreviousNodeState(
  client: RedisClient,
  keys: KeyLayout,
  nodeId: string,
  logger: Logger,
): Promise<void> {
  const users = await client.scard(keys.nodeUsers(nodeId));
  await removeNodeState(client, keys, nodeId);
  if (users > 0) {
    logger.info({ users }, 'removed the routes a previous process with this NODE_ID left');
  }
}

function loadEnv(): EdgeEnv {
  try {
    return parseEdgeEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      createLogger({ service: 'edge', instance: 'edge', level: 'info' }).fatal(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** ioredis reports every failed reconnect attempt: one line per client per 5 s is enough. */
function logRedisErrors(client: RedisClient, name: string, logger: Logger): void {
  let lastLogAt = 0;
  client.on('error', (error: Error) => {
    const now = Date.now();
    if (now - lastLogAt < 5000) return;
    lastLogAt = now;
    logger.warn({ err: error, client: name }, 'Redis connection error');
  });
}

main().catch((error: unknown) => {
  console.error('edge failed to start:', error);
  process.exit(1);
});
