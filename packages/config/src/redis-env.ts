import { z } from 'zod';
import { nonNegativeInt, positiveInt } from './env-fields.js';

const hostPort = /^[^\s:,]+:\d{1,5}$/;

const hostPortList = z
  .string()
  .optional()
  .refine(
    (v) => v === undefined || v.split(',').every((node) => hostPort.test(node.trim())),
    'expected host:port,host:port,...',
  );

/** Where Redis is and how keys are laid out: shared by every service. */
export const redisEnvSchema = {
  /** Single Redis URL. @default redis://127.0.0.1:6379 */
  REDIS_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || /^rediss?:\/\//.test(v), 'expected redis://host:port'),
  /** Redis Cluster seeds, host:port,... When set, REDIS_URL and REDIS_SENTINELS are ignored. */
  REDIS_CLUSTER_NODES: hostPortList,
  /**
   * Redis Sentinels, host:port,...: the primary is asked from them and
   * followed through a failover. When set, REDIS_URL is ignored. Unset by default.
   */
  REDIS_SENTINELS: hostPortList,
  /** Name of the monitored primary (`sentinel monitor <name> ...`). @default mymaster */
  REDIS_SENTINEL_NAME: z.string().optional().default('mymaster'),
  /** Password of the Sentinels themselves (`requirepass` in sentinel.conf). Unset by default. */
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  /** Password of the Redis data nodes (primary, replicas, cluster nodes). Unset by default. */
  REDIS_PASSWORD: z.string().optional(),
  /**
   * Replicas every acknowledged write must reach before a 202, an `accepted`
   * or a forwarded event (Redis WAIT). 0 trusts the primary alone. @default 0
   */
  MIN_REPLICAS: nonNegativeInt(0),
  /** Longest wait for MIN_REPLICAS acknowledgements; past it the request is refused (503). @default 1000 */
  REPLICA_WAIT_MS: positiveInt(1000),
  /** Prefix of every key. @default aw */
  KEY_PREFIX: z
    .string()
    .optional()
    .default('aw')
    .refine((v) => /^[A-Za-z0-9._-]{1,32}$/.test(v), 'expected 1-32 of [A-Za-z0-9._-]'),
  /** Number of ingest shards; identical in every process. @default 16 */
  SHARDS: positiveInt(16).refine((v) => v <= 4096, 'expected at most 4096'),
};

export interface RedisSettings {
  target: {
    url?: string;
    clusterNodes?: string[];
    sentinels?: string[];
    sentinelName?: string;
    sentinelPassword?: string;
    password?: string;
  };
  /** Replicated durability: replicas to WAIT for, and for how long. */
  replication: { minReplicas: number; timeoutMs: number };
  keyPrefix: string;
  shards: number;
}

function hostPorts(list: string | undefined): string[] | undefined {
  return list
    ?.split(',')
    .map((node) => node.trim())
    .filter((node) => node.length > 0);
}

export function redisSettings(env: {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
  REDIS_SENTINELS?: string | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
  MIN_REPLICAS?: number | undefined;
  REPLICA_WAIT_MS?: number | undefined;
  KEY_PREFIX: string;
  SHARDS: number;
}): RedisSettings {
  const clusterNodes = hostPorts(env.REDIS_CLUSTER_NODES);
  const sentinels = hostPorts(env.REDIS_SENTINELS);
  const password = env.REDIS_PASSWORD ? { password: env.REDIS_PASSWORD } : {};
  let target: RedisSettings['target'];
  if (clusterNodes) target = { clusterNodes, ...password };
  else if (sentinels) {
    target = {
      sentinels,
      sentinelName: env.REDIS_SENTINEL_NAME ?? 'mymaster',
      ...(env.REDIS_SENTINEL_PASSWORD && { sentinelPassword: env.REDIS_SENTINEL_PASSWORD }),
      ...password,
    };
  } else target = { url: env.REDIS_URL ?? 'redis://127.0.0.1:6379', ...password };
  return {
    target,
    replication: { minReplicas: env.MIN_REPLICAS ?? 0, timeoutMs: env.REPLICA_WAIT_MS ?? 1000 },
    keyPrefix: env.KEY_PREFIX,
    shards: env.SHARDS,
  };
}
