import type { KeyLayout, RedisClient } from '@agentwire/redis';

export type ShardAgreement = { ok: true } | { ok: false; stored: string };

/**
 * Every process must hash users onto the same number of shards. The first
 * process to start records SHARDS (HSETNX); every later one compares.
 */
export async function checkShardAgreement(
  client: RedisClient,
  keys: KeyLayout,
  shards: number,
): Promise<ShardAgreement> {
  await client.hsetnx(keys.clusterConfig(), 'shards', String(shards));
  const stored = await client.hget(keys.clusterConfig(), 'shards');
  return stored === String(shards) ? { ok: true } : { ok: false, stored: stored ?? '(none)' };
}
