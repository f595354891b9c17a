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
   * Called after a beat that found this node missing or expired: the reaper
   * may have removed its routes while it was alive (see route-reconciler.ts).
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
  const beat = async (): Promise<void> => {
    const now = Date.now();
    // Both in one round trip (auto-pipelining), the read first.
    const [previous] = await Promise.all([
      client.zscore(keys.nodes(), nodeId),
      client.zadd(keys.nodes(), now, nodeId),
    ]);
    if (options.onRevived && (previous === null || now - Number(previous) > options.ttlMs)) {
      await options.onRevived();
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
