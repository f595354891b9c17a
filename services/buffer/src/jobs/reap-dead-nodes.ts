import {
  markNodeReaped,
  removeNodeState,
  type KeyLayout,
  type RedisClient,
} from '@agentwire/redis';

/**
 * Removes what edges that stopped heartbeating left behind (removeNodeState:
 * their routes in every user they held, their user set, their inbox).
 * Idempotent: running it twice, or on two replicas, is harmless. A node that
 * heartbeats again meanwhile (a restarted process reusing its node id, which
 * cleans up after itself, or a live node that could not heartbeat for a while,
 * e.g. during a Redis failover) is left alone from the next batch on, so the
 * reaper does not remove the new process's routes. Routes removed before that
 * are gone all the same: the node is told (markNodeReaped) and restores them.
 * Returns the ids of the nodes reaped.
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
    // Once a check said dead, removeNodeState may remove routes.
    let removing = false;
    const stillDead = async (): Promise<boolean> => {
      const score = await client.zscore(keys.nodes(), node);
      const isDead = score === null || Number(score) <= cutoff;
      removing ||= isDead;
      return isDead;
    };
    const complete = await removeNodeState(client, keys, node, { stillDead });
    // Even when the node came back midway: the routes removed until then are
    // gone, and a node that heartbeats again cannot tell from its heartbeat.
    if (removing) await markNodeReaped(client, keys, node);
    if (!complete) continue;
    // Only forget the node if it did not come back meanwhile.
    if (await stillDead()) await client.zrem(keys.nodes(), node);
    reaped.push(node);
  }
  return reaped;
}
