import {
  redisProbe,
  startRedis,
  startRedisSentinel,
  startStack,
  type Stack,
  type TestRedis,
} from '@agentwire/testing';
import { Redis } from 'ioredis';
import { infoField } from './machine-info.js';

export interface LocalStackOptions {
  edges: number;
  buffers: number;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /**
   * Run the private Redis with an append-only file and this fsync policy
   * (`always` is what the local start command uses: zero loss, slower writes).
   * Unset: no persistence, like the test fixtures.
   */
  aof?: 'always' | 'everysec';
  /**
   * Replicas of a private primary watched by 3 Sentinels (the services
   * connect through them). 0 or unset: a lone Redis. Not with `aof`.
   */
  replicas?: number;
}

/** A running private stack plus what the benchmark needs to know about it. */
export interface LocalStack {
  stack: Stack;
  /** name -> pid of every process worth sampling (redis nodes, buffers, edges). */
  pids: Array<{ name: string; pid: number }>;
  redisVersion: string;
  /** The non-secret part of the services' environment, for the report. */
  publicEnv: Record<string, string>;
}

/**
 * Benchmarks run with production defaults, not the test fixtures' short
 * leases and 4 shards: those exist to make failover tests fast.
 */
const BENCHMARK_ENV: Record<string, string> = {
  SHARDS: '16',
  LEASE_TTL_MS: '5000',
  NODE_TTL_MS: '15000',
  LOG_LEVEL: 'warn',
};

const SECRET_NAMES = new Set(['JWT_SECRET', 'INGEST_TOKEN']);

/**
 * Starts a private Redis (single, or a 3-master cluster with
 * AW_TEST_TOPOLOGY=cluster) on a free loopback port, then buffers and edges
 * via @agentwire/testing, and finds the Redis pids through INFO server.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const sentinel = options.replicas
    ? await startRedisSentinel({ replicas: options.replicas })
    : undefined;
  const redis = sentinel
    ? { ...sentinel.asTestRedis(), stop: () => sentinel.stop() }
    : options.aof
      ? await persistentRedis(options.aof)
      : undefined;
  let stack: Stack;
  try {
    stack = await startStack({
      edges: options.edges,
      buffers: options.buffers,
      env: { ...BENCHMARK_ENV, ...options.env },
      ...(redis ? { redis } : {}),
    });
  } catch (err) {
    await redis?.stop();
    throw err;
  }
  // startStack leaves a Redis it was given running: stop it with the stack.
  if (redis) {
    const stopStack = stack.stop.bind(stack);
    stack = {
      ...stack,
      stop: async () => {
        await stopStack();
        await redis.stop();
      },
    };
  }
  try {
    const redisPorts = sentinel ? sentinel.dataPorts : redisPortsOf(stack.env);
    const pids: Array<{ name: string; pid: number }> = [];
    let redisVersion = 'unknown';
    for (const [i, port] of redisPorts.entries()) {
      const info = await redisProbe(port, ['INFO', 'server']);
      const pid = Number(infoField(info, 'process_id'));
      redisVersion = infoField(info, 'redis_version') ?? redisVersion;
      if (Number.isInteger(pid))
        pids.push({ name: redisPorts.length === 1 ? 'redis' : `redis-${i}`, pid });
    }
    stack.buffers.forEach((proc, i) => pids.push({ name: `buffer-${i}`, pid: proc.pid }));
    stack.edges.forEach((proc, i) => pids.push({ name: `edge-${i}`, pid: proc.pid }));
    const publicEnv: Record<string, string> = {};
    for (const [key, value] of Object.entries(stack.env)) {
      publicEnv[key] = SECRET_NAMES.has(key) ? '(generated)' : value;
    }
    return { stack, pids, redisVersion, publicEnv };
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

/** A single private Redis with AOF, in the shape startStack accepts. */
async function persistentRedis(appendfsync: 'always' | 'everysec'): Promise<TestRedis> {
  const server = await startRedis({ appendonly: true, appendfsync });
  return {
    topology: 'single',
    env: { REDIS_URL: server.url },
    createClient: () => new Redis(server.url),
    stop: () => server.stop(),
  };
}

/** Ports of the stack's Redis: REDIS_URL or every node of REDIS_CLUSTER_NODES. */
export function redisPortsOf(env: Record<string, string>): number[] {
  if (env.REDIS_URL) return [Number(new URL(env.REDIS_URL).port || 6379)];
  return (env.REDIS_CLUSTER_NODES ?? '')
    .split(',')
    .filter((node) => node.length > 0)
    .map((node) => Number(node.split(':').pop()));
}
