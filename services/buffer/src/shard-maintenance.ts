import { type KeyLayout, type RedisClient, readConsumerGroups } from '@agentwire/redis';
import type { BufferMetrics } from './metrics.js';

function idTime(id: string): number {
  return Number.parseInt(id, 10);
}

/**
 * Trims an ingest shard past what every consumer group has acknowledged and
 * reports its lag. An entry is kept while any group still has it pending or
 * has not read it yet, so trimming never loses an accepted event.
 */
export async function maintainShard(
  client: RedisClient,
  keys: KeyLayout,
  shard: number,
  metrics: BufferMetrics,
): Promise<void> {
  const stream = keys.ingest(shard);
  const groups = await readConsumerGroups(client, stream).catch(() => []);
  let trimTo: string | undefined;
  let pendingTotal = 0;
  let oldestPending: string | undefined;
  for (const group of groups) {
    const info = new Map<string, string | number>();
    for (let i = 0; i + 1 < group.length; i += 2) info.set(String(group[i]), group[i + 1] as never);
    const name = String(info.get('name'));
    const lastDelivered = String(info.get('last-delivered-id'));
    const pending = Number(info.get('pending'));
    let keepFrom = lastDelivered;
    if (pending > 0) {
      const summary = (await client.xpending(stream, name)) as [number, string, string, unknown];
      pendingTotal += pending;
      keepFrom = summary[1];
      if (oldestPending === undefined || idTime(summary[1]) < idTime(oldestPending)) {
        oldestPending = summary[1];
      }
    }
    if (trimTo === undefined || idTime(keepFrom) < idTime(trimTo)) trimTo = keepFrom;
  }
  const label = { shard: String(shard) };
  metrics.shardPending.set(label, pendingTotal);
  metrics.shardOldestPendingAge.set(
    label,
    oldestPending ? Math.max(0, (Date.now() - idTime(oldestPending)) / 1000) : 0,
  );
  if (trimTo !== undefined && trimTo !== '0-0') await client.xtrim(stream, 'MINID', trimTo);
}
