import { setTimeout as delay } from 'node:timers/promises';
import type { KeyLayout, RedisClient } from '@agentwire/redis';
import type { Logger } from '@agentwire/telemetry';
import type { ConnectionRegistry } from './connection-registry.js';
import type { SessionOps } from './session-ops.js';
import type { Connection } from './ws/connection.js';

export interface RouteReconcilerDeps {
  client: RedisClient;
  keys: KeyLayout;
  nodeId: string;
  registry: ConnectionRegistry<Connection>;
  sessionOps: SessionOps;
}

const SCAN_COUNT = 1000;

/**
 * Makes this node's routes in Redis say what its sockets say: for every
 * user it holds (its connections) or is recorded as holding (its user set),
 * the route count becomes the number of open sessions, and a user without
 * one loses the route and leaves the user set. Counts drift when a reply is
 * lost (openSession ran but the edge saw an error: one too high, forever),
 * when the reaper removed the routes of a node taken for dead, or when a
 * failover took back route writes. Users with a session call in flight are
 * skipped (their count is moving); the writes are issued in the same tick
 * as the counts are read, on the connection every session call uses, so
 * Redis applies them in the order this node decided them.
 * Returns the number of users whose route was rewritten or removed.
 */
export async function reconcileRoutes(deps: RouteReconcilerDeps): Promise<number> {
  const { client, keys, nodeId, registry, sessionOps } = deps;
  const recorded: string[] = [];
  let cursor = '0';
  do {
    const [next, users] = await client.sscan(keys.nodeUsers(nodeId), cursor, 'COUNT', SCAN_COUNT);
    cursor = next;
    recorded.push(...users);
  } while (cursor !== '0');

  // From here to the writes: no await, so the counts are those of this instant.
  const writes: Array<Promise<unknown>> = [];
  const users = new Set<string>(recorded);
  for (const [userId] of registry.entries()) users.add(userId);
  for (const userId of users) {
    if (sessionOps.has(userId)) continue;
    let open = 0;
    let opening = false;
    for (const conn of registry.get(userId) ?? []) {
      if (conn.session === 'open') open++;
      else if (conn.session === 'opening') opening = true;
    }
    if (opening) continue;
    if (open > 0) {
      writes.push(client.hset(keys.userRoutes(userId), nodeId, open));
      writes.push(client.sadd(keys.nodeUsers(nodeId), userId));
    } else {
      writes.push(client.hdel(keys.userRoutes(userId), nodeId));
      if (!registry.hasUser(userId)) writes.push(client.srem(keys.nodeUsers(nodeId), userId));
    }
  }
  await Promise.all(writes);
  return users.size;
}

/** Runs reconcileRoutes every `intervalMs` until the signal aborts. */
export async function runRouteReconciler(
  deps: RouteReconcilerDeps,
  intervalMs: number,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    await delay(intervalMs, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) break;
    try {
      await reconcileRoutes(deps);
    } catch (error) {
      logger.warn({ err: error }, 'route reconciliation failed; retrying next round');
    }
  }
}
