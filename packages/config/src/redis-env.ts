import { z } from 'zod';
import { positiveInt } from './env-fields.js';

const hostPort = /^[^\s:,]+:\d{1,5}$/;

/** Where Redis is and how keys are laid out: shared by every service. */
export const redisEnvSchema = {
  /** Single Redis URL. @default redis://127.0.0.1:6379 */
  REDIS_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || /^rediss?:\/\//.test(v), 'expected redis://host:port'),
  /** Redis Cluster seeds, host:port,... When set, REDIS_URL is ignored. */
  REDIS_CLUSTER_NODES: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || v.split(',').every((node) => hostPort.test(node.trim())),
      'expected host:port,host:port,...',
    ),
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
  target: { url?: string; clusterNodes?: string[] };
  keyPrefix: string;
  shards: number;
}

export function redisSettings(env: {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
  KEY_PREFIX: string;
  SHARDS: number;
}): RedisSettings {
  const clusterNodes = env.REDIS_CLUSTER_NODES?.split(',').map((node) => node.trim());
  return {
    target: clusterNodes ? { clusterNodes } : { url: env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    keyPrefix: env.KEY_PREFIX,
    shards: env.SHARDS,
  };
}
