import type { KeyLayout, RedisClient } from '@agentwire/redis';
import type { ConnectionRegistry } from './connection-registry.js';
import type { Connection } from './ws/connection.js';

/**
 * Writes this node's routes again from its own connections: the count of
 * open sessions per user, and the node's user set. Needed when the node was
 * taken for dead (its heartbeat could not be written for longer than
 * NODE_TTL_MS, e.g. during a Redis outage) and the reaper removed its routes
 * and inbox while its sockets stayed open: without them the buffer would stop
 * forwarding to it. Events forwarded in between are not lost: the connections
 * see a seq gap on the next event and catch up from the log.
 * Returns the number of users restored.
 */
export async function restoreRoutes(
  client: RedisClient,
  keys: KeyLayout,
  nodeId: string,
  registry: ConnectionRegistry<Connection>,
): Promise<number> {
  const writes: Array<Promise<unknown>> = [];
  for (const [userId, connections] of registry.entries()) {
    let open = 0;
    for (const conn of connections) if (conn.session === 'open') open++;
    if (open === 0) continue;
    // HSET, not HINCRBY: the reaper may or may not have removed the old count.
    writes.push(client.hset(keys.userRoutes(userId), nodeId, open));
    writes.push(client.sadd(keys.nodeUsers(nodeId), userId));
  }
  await Promise.all(writes);
  return writes.length / 2;
}
