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
 * connection that wrote: the client itself, or on a cluster every master
 * connection (a master with nothing new from us answers at once). Call it
 * after the writes resolved and before telling anyone they are durable.
 * A no-op when minReplicas is 0.
 */
export async function replicate(
  client: RedisClient,
  minReplicas: number,
  timeoutMs: number,
): Promise<void> {
  if (minReplicas <= 0) return;
  const connections = 'nodes' in client ? client.nodes('master') : [client];
  const counts = await Promise.all(
    connections.map((connection) => connection.wait(minReplicas, timeoutMs)),
  );
  const acknowledged = Math.min(...counts);
  if (acknowledged < minReplicas) throw new ReplicationTimeoutError(acknowledged, minReplicas);
}
