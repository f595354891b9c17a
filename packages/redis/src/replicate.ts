import type { Cluster, Redis } from 'ioredis';
import { keySlot } from './key-slot.js';
import type { RedisClient } from './redis-client.js';

/** How many replicas a write must reach, and for how long to wait (MIN_REPLICAS, REPLICA_WAIT_MS). */
export interface ReplicationPolicy {
  minReplicas: number;
  timeoutMs: number;
}

/** The writes did not reach enough replicas in time: nothing may be reported as durable. */
export class ReplicationTimeoutError extends Error {
  override readonly name = 'ReplicationTimeoutError';
  constructor(
    readonly acknowledged: number,
    readonly wanted: number,
  ) {
    super(`writes reached ${acknowledged} of ${wanted} replicas in time`);
  }
}

/**
 * Waits until every write this client issued so far has reached `minReplicas`
 * replicas (Redis WAIT), or throws ReplicationTimeoutError after `timeoutMs`.
 * WAIT covers the writes of the connection it is sent on, so it goes on the
 * connection that wrote: the client itself, or on a cluster the master
 * connections that hold `writtenKeys` (one key per slot written is enough).
 * Call it after the writes resolved and before telling anyone they are
 * durable. A no-op when minReplicas is 0.
 */
export async function replicate(
  client: RedisClient,
  minReplicas: number,
  timeoutMs: number,
  writtenKeys: readonly string[],
): Promise<void> {
  if (minReplicas <= 0) return;
  const connections = 'nodes' in client ? mastersOf(client, writtenKeys) : [client];
  const counts = await Promise.all(
    connections.map((connection) => connection.wait(minReplicas, timeoutMs)),
  );
  const acknowledged = Math.min(...counts);
  if (acknowledged < minReplicas) throw new ReplicationTimeoutError(acknowledged, minReplicas);
}

/** The master connections serving the slots of `keys` (every master while the slot map is unknown). */
function mastersOf(cluster: Cluster, keys: readonly string[]): Redis[] {
  const wanted = new Set<string>();
  for (const key of keys) {
    const owner = cluster.slots[keySlot(key)]?.[0];
    if (owner === undefined) return cluster.nodes('master');
    wanted.add(owner);
  }
  return cluster
    .nodes('master')
    .filter((node) => wanted.has(`${node.options.host}:${node.options.port}`));
}
