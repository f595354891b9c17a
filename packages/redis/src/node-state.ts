import type { KeyLayout } from './key-layout.js';
import type { RedisClient } from './redis-client.js';

export interface RemoveNodeStateOptions {
  /**
   * Checked before each batch of route removals; returning false stops the
   * clean-up. The reaper uses it to back off when the node heartbeats again
   * (a restarted process reusing the node id registers new routes).
   */
  stillDead?: () => Promise<boolean>;
  /** Users read per SSCAN page. @default 500 */
  batchSize?: number;
}

/**
 * Removes what an edge node left in Redis: its route in every user of its
 * user set (so the buffer stops forwarding to it and its connections stop
 * counting toward per-user limits), its user set and its inbox. Used by the
 * buffer's reaper for nodes whose heartbeat expired, and by an edge at start
 * for what a previous process with the same node id left behind.
 * Idempotent. Resolves true when it ran to the end, false when `stillDead`
 * stopped it.
 */
export async function removeNodeState(
  client: RedisClient,
  keys: KeyLayout,
  nodeId: string,
  options: RemoveNodeStateOptions = {},
): Promise<boolean> {
  const usersKey = keys.nodeUsers(nodeId);
  const batchSize = options.batchSize ?? 500;
  let cursor = '0';
  do {
    if (options.stillDead !== undefined && !(await options.stillDead())) return false;
    const [next, users] = await client.sscan(usersKey, cursor, 'COUNT', batchSize);
    cursor = next;
    // One slot per user in a cluster: separate commands, pipelined by ioredis.
    await Promise.all(users.map((user) => client.hdel(keys.userRoutes(user), nodeId)));
  } while (cursor !== '0');
  if (options.stillDead !== undefined && !(await options.stillDead())) return false;
  await client.del(usersKey);
  await client.del(keys.inbox(nodeId));
  return true;
}

/**
 * How long a reaped mark waits for its node. A live node reads it within a
 * heartbeat; a dead one never does, and the mark must not outlive it forever.
 */
const REAPED_MARK_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Tells an edge node that someone else removed routes of its users (the
 * reaper, which took it for dead). Set after the removals: the node reads
 * and clears it at its next heartbeat (keys.nodeReaped) and, if it is alive
 * after all, restores its routes. Without it a node whose heartbeat came back
 * while the reaper was removing its routes would not know they were gone.
 */
export async function markNodeReaped(
  client: RedisClient,
  keys: KeyLayout,
  nodeId: string,
): Promise<void> {
  await client.set(keys.nodeReaped(nodeId), String(Date.now()), 'PX', REAPED_MARK_TTL_MS);
}
