import { Cluster, Redis } from 'ioredis';
import { startRedisCluster } from './redis-cluster.js';
import { startRedis } from './redis-server.js';

export type TestTopology = 'single' | 'cluster';

/** The Redis an integration test runs against, single or cluster as AW_TEST_TOPOLOGY says. */
export interface TestRedis {
  readonly topology: TestTopology | 'sentinel';
  /** `{ REDIS_URL }` or `{ REDIS_CLUSTER_NODES }`, ready to merge into a service's environment. */
  readonly env: Record<string, string>;
  /** A new ioredis client for this Redis; the caller quits it. */
  createClient(): Redis | Cluster;
  stop(): Promise<void>;
}

/** The topology the integration tier runs against: AW_TEST_TOPOLOGY=cluster, else single. */
export function testTopology(): TestTopology {
  return process.env.AW_TEST_TOPOLOGY === 'cluster' ? 'cluster' : 'single';
}

/**
 * Where a service's own client (createRedisClient in @agentwire/redis) finds
 * a single or cluster TestRedis: the shape of its RedisTarget.
 */
export function redisTargetOf(redis: TestRedis): { url: string } | { clusterNodes: string[] } {
  const cluster = redis.env.REDIS_CLUSTER_NODES;
  if (cluster !== undefined) return { clusterNodes: cluster.split(',') };
  const url = redis.env.REDIS_URL;
  if (url === undefined)
    throw new Error('this TestRedis has neither REDIS_URL nor REDIS_CLUSTER_NODES');
  return { url };
}

/** Starts a private Redis of the topology chosen by AW_TEST_TOPOLOGY. */
export async function startTestRedis(): Promise<TestRedis> {
  if (testTopology() === 'cluster') {
    const cluster = await startRedisCluster();
    return {
      topology: 'cluster',
      env: { REDIS_CLUSTER_NODES: cluster.nodes },
      createClient: () => new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port }))),
      stop: () => cluster.stop(),
    };
  }
  const server = await startRedis();
  return {
    topology: 'single',
    env: { REDIS_URL: server.url },
    createClient: () => new Redis(server.url),
    stop: () => server.stop(),
  };
}
