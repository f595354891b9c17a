import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface RedisTarget {
  /** Single Redis, e.g. redis://127.0.0.1:6379. Ignored when clusterNodes or sentinels is set. */
  url?: string;
  /** Redis Cluster seed nodes, host:port each. */
  clusterNodes?: string[];
  /** Redis Sentinels, host:port each: the primary is found and followed through them. */
  sentinels?: string[];
  /** Name of the primary the Sentinels monitor. @default mymaster */
  sentinelName?: string;
  sentinelPassword?: string;
  /** Password of the data nodes. */
  password?: string;
}

export interface RedisClientOptions {
  /** Connection name shown by CLIENT LIST, e.g. "edge-a:inbox". */
  name: string;
  /**
   * Queue commands while disconnected. Off for request paths that must fail
   * fast (ingest answers 503 instead of hanging); on for background loops.
   * @default true
   */
  offlineQueue?: boolean;
  /**
   * Batch commands of one tick into one round trip. Off for connections that
   * block (XREAD BLOCK), where a batched command would wait behind the block.
   * @default true
   */
  autoPipelining?: boolean;
}

/** Reconnect backoff: quick first retries, capped so a restarted Redis is found within a second. */
function retryDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 5), 1000);
}

/**
 * The one Redis client factory. Auto-pipelining batches every command issued
 * in the same tick into one round trip (and, on a cluster, one per node),
 * which is what keeps per-event work off the network on hot paths.
 * READONLY/LOADING answers (a replica promoted, a Redis replaying its AOF)
 * make ioredis reconnect and retry rather than fail the command.
 */
export function createRedisClient(target: RedisTarget, options: RedisClientOptions): RedisClient {
  const common: RedisOptions = {
    connectionName: options.name,
    enableAutoPipelining: options.autoPipelining ?? true,
    enableOfflineQueue: options.offlineQueue ?? true,
    maxRetriesPerRequest: options.offlineQueue === false ? 0 : null,
    retryStrategy: retryDelay,
    reconnectOnError: (error) => /READONLY|LOADING/.test(error.message),
    lazyConnect: false,
    ...(target.password !== undefined && { password: target.password }),
  };
  if (target.clusterNodes && target.clusterNodes.length > 0) {
    const clusterOptions: ClusterOptions = {
      redisOptions: common,
      enableAutoPipelining: options.autoPipelining ?? true,
      enableOfflineQueue: options.offlineQueue ?? true,
      clusterRetryStrategy: retryDelay,
      slotsRefreshTimeout: 2000,
    };
    return new Cluster(target.clusterNodes.map(hostPort), clusterOptions);
  }
  if (target.sentinels && target.sentinels.length > 0) {
    return new Redis({
      ...common,
      sentinels: target.sentinels.map(hostPort),
      name: target.sentinelName ?? 'mymaster',
      ...(target.sentinelPassword !== undefined && { sentinelPassword: target.sentinelPassword }),
      sentinelRetryStrategy: retryDelay,
      // A paused (SIGSTOP) primary never closes our sockets: without this a
      // client would wait on it forever. Sentinel's +switch-master makes
      // every client drop its connection and ask for the new primary.
      failoverDetector: true,
    });
  }
  return new Redis(target.url ?? 'redis://127.0.0.1:6379', common);
}

function hostPort(node: string): { host: string; port: number } {
  const [host, port] = node.split(':');
  return { host: host ?? '127.0.0.1', port: Number(port) };
}

/** A client for blocking reads (XREAD BLOCK): its own connection, never auto-pipelined. */
export function createBlockingClient(target: RedisTarget, name: string): RedisClient {
  return createRedisClient(target, { name, autoPipelining: false });
}

/** Resolves once the client is ready, or rejects after timeoutMs. */
export async function waitForReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}
