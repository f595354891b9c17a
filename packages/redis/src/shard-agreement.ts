import type { KeyLayout } from './key-layout.js';
import type { RedisClient } from './redis-client.js';

/**
 * Every process must hash users onto the same number of shards. The first
 * process to start records SHARDS in Redis; a process started with another
 * value learns of the mismatch here, before it touches any stream.
 * Returns the stored value (equal to keys.shards when they agree).
 */
export async function recordShardCount(client: RedisClient, keys: KeyLayout): Promise<number> {
  await client.hsetnx(keys.clusterConfig(), 'shards', keys.shards);
  return Number(await client.hget(keys.clusterConfig(), 'shards'));
}
