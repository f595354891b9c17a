import type { KeyLayout, RedisClient } from '@agentwire/redis';

/**
 * Removes what edges that stopped heartbeating left behind: their routes in
 * every user they held (so the buffer stops forwarding to them and their
 * connection counts stop counting toward the per-user limit), their inbox and
 * their user set. Idempotent: running it twice, or on two replicas, is harmless.
 * Returns the ids of the nodes reaped.
 */
export async function reapDeadNodes(
  client: RedisClient,
  keys: KeyLayout,
  nodeTtlMs: number,
  now = Date.now(),
): Promise<string[]> {
  const dead = await client.zrangebyscore(keys.nodes(), '-inf', now - nodeTtlMs);
  for (const node of dead) {
    const usersKey = keys.nodeUsers(node);
    let cursor = '0';
    do {
      const [next, users] = await client.sscan(usersKey, cursor, 'COUNT', 500);
      cursor = next;
      await Promise.all(users.map((user) => client.hdel(keys.userRoutes(user), node)));
    } while (cursor !== '0');
    await client.del(usersKey);
    await client.del(keys.inbox(node));
    // Only forget the node if it did not come back meanwhile.
    const score = await client.zscore(keys.nodes(), node);
    if (score !== null && Number(score) <= now - nodeTtlMs) await client.zrem(keys.nodes(), node);
  }
  return dead;
}
