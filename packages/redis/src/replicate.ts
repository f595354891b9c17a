import type { Cluster, Redis } from 'ioredis';
import { keySlot } from './key-slot.js';
import type { RedisClient } from './redis-client.js';

/** How many replicas a write must reach, and for how long to wait (MIN_REPLICAS, REPLICA_WAIT_MS). */
export interface ReplicationPolicy {
  minReplicas: number;
  timeoutMs: number;
}

/** What the caller wrote: a key of every slot written, and connectionGeneration() taken before. */
export interface WrittenSet {
  keys: readonly string[];
  generation: number;
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

const generations = new WeakMap<RedisClient, { value: number }>();

/**
 * A number that changes whenever a connection of `client` closes. WAIT only
 * vouches for the writes of the connection it runs on: if the connection
 * that wrote went away (a failover), a WAIT resent on its successor would
 * answer for writes it never saw, the very writes a failover loses. Take
 * the generation before writing and hand it to replicate().
 */
export function connectionGeneration(client: RedisClient): number {
  let generation = generations.get(client);
  if (generation === undefined) {
    const counter = { value: 0 };
    const bump = (): void => {
      counter.value++;
    };
    if ('nodes' in client) {
      const watched = new WeakSet<Redis>();
      const watch = (node: Redis): void => {
        if (watched.has(node)) return;
        watched.add(node);
        node.on('close', bump);
      };
      client.nodes('all').forEach(watch);
      client.on('+node', (node: Redis) => {
        bump();
        watch(node);
      });
      client.on('-node', bump);
    } else {
      client.on('close', bump);
    }
    generations.set(client, counter);
    generation = counter;
  }
  return generation.value;
}

/**
 * Waits until the writes described by `written` have reached
 * `policy.minReplicas` replicas (Redis WAIT), or throws
 * ReplicationTimeoutError after `policy.timeoutMs`, or when a connection
 * closed since the writes (see connectionGeneration). WAIT goes on the
 * connection that wrote: the client itself, or on a cluster the master
 * connections that hold `written.keys`. Call it after the writes resolved
 * and before telling anyone they are durable. A no-op when minReplicas is 0.
 */
export async function replicate(
  client: RedisClient,
  policy: ReplicationPolicy,
  written: WrittenSet,
): Promise<void> {
  const { minReplicas, timeoutMs } = policy;
  if (minReplicas <= 0) return;
  const connections = 'nodes' in client ? mastersOf(client, written.keys) : [client];
  const counts = await Promise.all(
    connections.map((connection) => connection.wait(minReplicas, timeoutMs)),
  );
  const acknowledged = Math.min(...counts);
  if (acknowledged < minReplicas) throw new ReplicationTimeoutError(acknowledged, minReplicas);
  // A WAIT answered by a successor connection says nothing about our writes.
  if (connectionGeneration(client) !== written.generation) {
    throw new ReplicationTimeoutError(0, minReplicas);
  }
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
