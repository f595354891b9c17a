import type { KeyLayout, RedisClient } from '@agentwire/redis';
import type { Logger } from '@agentwire/telemetry';

export interface NodeHeartbeatOptions {
  client: RedisClient;
  keys: KeyLayout;
  nodeId: string;
  /** NODE_TTL_MS: a node whose heartbeat is older is dead and gets reaped. */
  ttlMs: number;
  logger: Logger;
  signal: AbortSignal;
  /**
   * Called after a beat that found this node reaped: missing from the
   * heartbeats, or marked by a reaper that removed routes of its users while
   * it was alive after all (see route-reconciler.ts).
   */
  onRevived?: () => Promise<unknown>;
}

/**
 * Records this node as alive: ZADD keys.nodes() <now> <nodeId>, every third
 * of the TTL so that two missed beats still leave it alive. The first beat is
 * awaited (start-up fails if Redis refuses it). On stop the entry is left to
 * age: the reaper then removes whatever routes or inbox this node left behind.
 */
export async function startNodeHeartbeat(options: NodeHeartbeatOptions): Promise<void> {
  const { client, keys, nodeId, logger, signal } = options;
  // Set until onRevived succeeds: the mark is gone once read.
  let revivalOwed = false;
  const beat = async (): Promise<void> => {
    const now = Date.now();
    // All in one round trip (auto-pipelining), the score read before it is
    // written. Not judged by the previous beat's age: beats queued while Redis
    // was unreachable (a failover) arrive together, each a moment after the
    // last, however long the reaper saw none. The reaper's mark says what it did.
    const [previous, , reaped] = await Promise.all([
      client.zscore(keys.nodes(), nodeId),
      client.zadd(keys.nodes(), now, nodeId),
      client.getdel(keys.nodeReaped(nodeId)),
    ]);
    if (previous === null || reaped !== null) revivalOwed = true;
    if (options.onRevived && revivalOwed) {
      await options.onRevived();
      revivalOwed = false;
    }
  };
  await beat();
  const timer = setInterval(
    () => {
      beat().catch((error: unknown) => logger.warn({ err: error }, 'node heartbeat failed'));
    },
    Math.max(100, Math.floor(options.ttlMs / 3)),
  );
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
