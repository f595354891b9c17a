import type { KeyLayout, RedisClient } from '@agentwire/redis';

/**
 * Time-based retention for users who stopped receiving events: the persist
 * script trims a log's head on every append, but a log that gets no more
 * appends keeps its expired head until its key expires. This trims those
 * heads (keeping the newest entry, which goes with the key's TTL) and drops
 * users whose history has expired from the shard's user index.
 */
export async function sweepRetention(
  client: RedisClient,
  keys: KeyLayout,
  retentionMs: number,
  now = Date.now(),
): Promise<{ usersForgotten: number; entriesTrimmed: number }> {
  const cutoff = now - retentionMs;
  let usersForgotten = 0;
  let entriesTrimmed = 0;
  for (let shard = 0; shard < keys.shards; shard++) {
    const index = keys.shardUsers(shard);
    usersForgotten += await client.zremrangebyscore(index, '-inf', cutoff);
    let cursor = '0';
    do {
      const [next, flat] = await client.zscan(index, cursor, 'COUNT', 200);
      cursor = next;
      for (let i = 0; i < flat.length; i += 2) {
        entriesTrimmed += await trimExpiredHead(client, keys.userLog(flat[i] as string), cutoff);
      }
    } while (cursor !== '0');
  }
  return { usersForgotten, entriesTrimmed };
}

async function trimExpiredHead(
  client: RedisClient,
  logKey: string,
  cutoff: number,
): Promise<number> {
  const head = await client.xrange(logKey, '-', '+', 'COUNT', 1000);
  let keepFrom: string | undefined;
  let expired = 0;
  for (let i = 0; i < head.length - 1; i++) {
    const fields = (head[i] as [string, string[]])[1];
    const ts = Number(fields[fields.indexOf('t') + 1]);
    if (!(ts < cutoff)) break;
    keepFrom = (head[i + 1] as [string, string[]])[0];
    expired++;
  }
  if (keepFrom === undefined) return 0;
  await client.xtrim(logKey, 'MINID', keepFrom);
  return expired;
}
