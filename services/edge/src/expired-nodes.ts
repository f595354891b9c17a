import type { KeyLayout, RedisClient } from '@agentwire/redis';
import type { Logger } from '@agentwire/telemetry';
import { warnThrottled } from './log-throttle.js';

export interface ExpiredNodesOptions {
  client: RedisClient;
  keys: KeyLayout;
  /** This node: never listed, whatever its last heartbeat says. */
  nodeId: string;
  /** NODE_TTL_MS: a node whose heartbeat is older is dead. */
  ttlMs: number;
  logger: Logger;
  signal: AbortSignal;
  /** @default 1000 */
  refreshMs?: number;
}

export interface ExpiredNodes {
  /** Ids of the nodes whose heartbeat had expired at the last refresh (usually none). */
  ids(): readonly string[];
}

/**
 * A cache of the edge nodes whose heartbeat is older than NODE_TTL_MS but
 * that are still listed in keys.nodes(), i.e. dead and not reaped yet
 * (ZRANGEBYSCORE keys.nodes() -inf now-ttl), refreshed once a second. The
 * session script leaves their routes out of the per-user count, so a
 * SIGKILLed node's connections stop counting at most a second after its
 * heartbeat expires, without waiting for the reaper.
 *
 * Why the dead list and not the live one: a node that started a moment ago
 * is missing from a cached live list, and its connections would not count
 * until the next refresh; a cached dead list errs only the other way (a
 * node that just died counts for up to one more second). It is also short:
 * empty except between a node's death and its reaping.
 */
export async function startExpiredNodes(options: ExpiredNodesOptions): Promise<ExpiredNodes> {
  const { client, keys, nodeId, ttlMs, logger, signal } = options;
  let current: readonly string[] = [];
  let refreshing = false;
  const refresh = async (): Promise<void> => {
    // While Redis is away a read may wait in the offline queue: never stack them.
    if (refreshing) return;
    refreshing = true;
    try {
      const ids = await client.zrangebyscore(keys.nodes(), '-inf', `(${Date.now() - ttlMs}`);
      current = ids.filter((id) => id !== nodeId);
    } catch (error) {
      warnThrottled(logger, { err: error }, 'reading the expired node list failed');
    } finally {
      refreshing = false;
    }
  };
  await refresh();
  const timer = setInterval(() => void refresh(), options.refreshMs ?? 1000);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  return { ids: () => current };
}
