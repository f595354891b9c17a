import { removeNodeState, type KeyLayout, type RedisClient } from '@agentwire/redis';

/**
 * Removes what edges that stopped heartbeating left behind (removeNodeState:
 * their routes in every user they held, their user set, their inbox).
 * Idempotent: running it twice, or on two replicas, is harmless. A node that
 * heartbeats again meanwhile (a restarted process reusing its node id, which
 * cleans up after itself) is left alone from the next batch on, so the reaper
 * does not remove the new process's routes. Returns the ids of the nodes reaped.
 */
export async function reapDeadNodes(
  client: RedisClient,
  keys: KeyLayout,
  nodeTtlMs: number,
  now = Date.now(),
): Promise<string[]> {
  const cutoff = now - nodeTtlMs;
  const dead = await client.zrangebyscore(keys.nodes(), '-inf', cutoff);
  const reaped: string[] = [];
  for (const node of dead) {
    const stillDead = async (): Promise<boolean> => {
      const score = await client.zscore(keys.nodes(), node);
      return score === null || Number(score) <= cutoff;
    };
    if (!(await removeNodeState(client, keys, node, { stillDead }))) continue;
    // Only forget the node if it did not come back meanwhile.
    if (await stillDead()) await client.zrem(keys.nodes(), node);
    reaped.push(node);
  }
  return reaped;
}
