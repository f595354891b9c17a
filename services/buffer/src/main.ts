import { ConfigError, redisSettings } from '@agentwire/config';
import {
  closeRedisClient,
  createKeyLayout,
  createBlockingClient,
  createRedisClient,
  recordShardCount,
  waitForReady,
} from '@agentwire/redis';
import { createLogger, installGracefulStop } from '@agentwire/telemetry';
import { loadBufferEnv } from './env.js';
import { MaintenanceJobs } from './jobs/maintenance-jobs.js';
import { startHealthServer } from './health-server.js';
import { ShardHistoryMemory } from './history-memory.js';
import { watchShardHistories } from './history-watch.js';
import { createBufferMetrics } from './metrics.js';
import { ShardBalancer } from './shard-balancer.js';
import { maintainShard } from './shard-maintenance.js';

/** How often the history marks of the shards this process wrote are checked for lost writes. */
const HISTORY_CHECK_MS = 1000;

async function main(): Promise<void> {
  let env;
  try {
    env = loadBufferEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`buffer: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ service: 'buffer', instance: env.BUFFER_ID, level: env.LOG_LEVEL });
  const redis = redisSettings(env);
  const keys = createKeyLayout(redis.keyPrefix, redis.shards);
  const metrics = createBufferMetrics(env.BUFFER_ID);
  const client = createRedisClient(redis.target, {
    name: `${env.BUFFER_ID}:main`,
    autoPipelining: false,
  });
  client.on('error', () => undefined);

  await waitForReady(client, 30_000);
  const agreed = await recordShardCount(client, keys);
  if (agreed !== keys.shards) {
    logger.fatal(
      `SHARDS=${keys.shards} but the deployment uses SHARDS=${agreed}; set SHARDS=${agreed}`,
    );
    await closeRedisClient(client, 1000);
    process.exit(1);
  }

  const shutdown = new AbortController();
  const history = new ShardHistoryMemory();
  const balancer = new ShardBalancer({
    client,
    target: redis.target,
    keys,
    replicaId: env.BUFFER_ID,
    leaseTtlMs: env.LEASE_TTL_MS,
    batchSize: env.BATCH_SIZE,
    inboxMaxLen: env.INBOX_MAXLEN,
    // A single Redis (or Sentinel's primary) lets the persist script write every
    // edge's inbox itself, unless a replication wait must come before forwarding.
    forwardInScript:
      !(redis.target.clusterNodes && redis.target.clusterNodes.length > 0) &&
      redis.replication.minReplicas === 0,
    persist: {
      retentionMs: env.RETENTION_MS,
      retentionMaxEvents: env.RETENTION_MAX_EVENTS,
      dedupeWindowMs: env.DEDUPE_WINDOW_MS,
      runs: {
        maxBytes: env.RUN_MAX_BYTES,
        maxPerUser: env.RUN_MAX_PER_USER,
        ttlMs: env.RUN_TTL_MS,
        stallMs: env.RUN_STALL_MS,
      },
    },
    replication: redis.replication,
    history,
    metrics,
    logger,
  });
  const balancing = balancer.run(shutdown.signal);
  const watching = watchShardHistories(
    { client, keys, history, inboxMaxLen: env.INBOX_MAXLEN, metrics, logger },
    HISTORY_CHECK_MS,
    shutdown.signal,
  );
  const maintenance = setInterval(() => {
    for (const shard of balancer.ownedShards) {
      maintainShard(client, keys, shard, metrics).catch(() => undefined);
    }
  }, env.SHARD_MAINTENANCE_MS);

  const jobsClient = createBlockingClient(redis.target, `${env.BUFFER_ID}:jobs`);
  jobsClient.on('error', () => undefined);
  const jobs = new MaintenanceJobs({
    client,
    workerClient: jobsClient,
    keys,
    nodeTtlMs: env.NODE_TTL_MS,
    retentionMs: env.RETENTION_MS,
    retentionSweepMs: env.RETENTION_SWEEP_MS,
    runStallMs: env.RUN_STALL_MS,
    ...(env.UNACKED_WEBHOOK_URL && {
      unacknowledged: {
        url: env.UNACKED_WEBHOOK_URL,
        afterMs: env.UNACKED_AFTER_MS,
        checkMs: env.UNACKED_CHECK_MS,
        lookbackMs: env.UNACKED_LOOKBACK_MS,
      },
    }),
    logger,
  });
  await jobs.schedule();

  const server = await startHealthServer({
    port: env.PORT,
    registry: metrics.registry,
    isReady: () => client.status === 'ready' && !shutdown.signal.aborted,
  });
  logger.info({ port: env.PORT, shards: keys.shards }, 'buffer started');
  if (env.METRICS_PORT !== undefined) {
    logger.warn('METRICS_PORT is deprecated (and ignored when PORT is set): use PORT');
  }

  installGracefulStop({
    logger,
    graceMs: env.STOP_GRACE_MS,
    stop: async (steps) => {
      // Not ready at once; the balancer and every shard consumer stop reading.
      shutdown.abort();
      clearInterval(maintenance);
      // Each step that waits on Redis gets a share of what is left, so the
      // graceful path ends before the deadline even when Redis never answers.
      // Waiting longer than a lease's TTL to release it is pointless: it
      // expires by itself by then, and another replica takes the shard.
      await steps.run(
        'finish shard batches, release leases, stop the history watch',
        () => Promise.all([balancing, watching]),
        Math.min(env.LEASE_TTL_MS, steps.budgetMs(0.4)),
      );
      // Lets a running job finish; an interrupted one is retried by another replica.
      await steps.run('close BullMQ worker and queue', () => jobs.close(), steps.budgetMs(0.5));
      jobsClient.disconnect();
      server.close();
      await closeRedisClient(client, Math.min(1000, steps.budgetMs(0.5)));
    },
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`buffer: failed to start: ${String(error)}\n`);
  process.exit(1);
});
