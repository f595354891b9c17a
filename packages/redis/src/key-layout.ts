/**
 * Every Redis key agentwire uses, built in one place.
 *
 * Hash tags keep each multi-key script in one Redis Cluster slot:
 * - `{sN}`: ingest shard N. A user's history (meta, log, routes, dedupe) lives
 *   in the slot of the user's shard, so the sequencer's script can check the
 *   shard lease (fencing) and write the user's keys atomically.
 * - `{n:<node>}`: one edge node's inbox, user set and reaped mark.
 * - `{up}`: the upstream stream and its idempotency keys.
 */
export interface KeyLayout {
  readonly prefix: string;
  readonly shards: number;
  shardOf(userId: string): number;
  /** Key base of a shard, e.g. `aw:{s3}:`; scripts derive user keys from it. */
  shardBase(shard: number): string;
  ingest(shard: number): string;
  lease(shard: number): string;
  fence(shard: number): string;
  shardUsers(shard: number): string;
  /**
   * Counter of the shard's persisted batches (the history mark): the buffer
   * remembers the last value it saw; a stored value below it means a failover
   * or a restore took writes back (docs/operations.md, "Lost history").
   */
  shardHistory(shard: number): string;
  /**
   * Sorted set of the shard's running runs, member `userId|runId`, score = the
   * run's last event (ms): what the stall job looks at.
   */
  shardRunning(shard: number): string;
  userMeta(userId: string): string;
  userLog(userId: string): string;
  userRoutes(userId: string): string;
  /** A run's hash (status, times, chunks per stream); see persist-batch-1.lua. */
  run(userId: string, runId: string): string;
  /** The text of one stream of a run. */
  runText(userId: string, runId: string, stream: string): string;
  /** Sorted set of a user's retained runs by last event time. */
  userRuns(userId: string): string;
  /** Set of a user's running and stalled runs: what a new connection gets snapshots of. */
  userLiveRuns(userId: string): string;
  inbox(nodeId: string): string;
  /** The parts of every inbox key around the node id, for scripts that build them. */
  inboxKeyParts(): readonly [before: string, after: string];
  nodeUsers(nodeId: string): string;
  /** String, set by the reaper after it removed routes of the node (node-state.ts). */
  nodeReaped(nodeId: string): string;
  /** Sorted set: edge node id -> last heartbeat (ms). */
  nodes(): string;
  /** Sorted set: buffer replica id -> last heartbeat (ms). */
  buffers(): string;
  /** Hash of settings every process must agree on (SHARDS). */
  clusterConfig(): string;
  upstream(): string;
  upstreamIdempotency(userId: string, messageId: string): string;
}

/** FNV-1a, 32 bit: stable across processes and languages, cheap for short ids. */
export function hashUserId(userId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function createKeyLayout(prefix: string, shards: number): KeyLayout {
  const shardOf = (userId: string): number => hashUserId(userId) % shards;
  const shardBase = (shard: number): string => `${prefix}:{s${shard}}:`;
  const userBase = (userId: string): string => `${shardBase(shardOf(userId))}u:${userId}:`;
  return {
    prefix,
    shards,
    shardOf,
    shardBase,
    ingest: (shard) => `${shardBase(shard)}ingest`,
    lease: (shard) => `${shardBase(shard)}lease`,
    fence: (shard) => `${shardBase(shard)}fence`,
    shardUsers: (shard) => `${shardBase(shard)}users`,
    shardHistory: (shard) => `${shardBase(shard)}hist`,
    shardRunning: (shard) => `${shardBase(shard)}running`,
    userMeta: (userId) => `${userBase(userId)}meta`,
    userLog: (userId) => `${userBase(userId)}log`,
    userRoutes: (userId) => `${userBase(userId)}routes`,
    // '|' occurs in no user id and no stream name: these keys cannot collide.
    run: (userId, runId) => `${shardBase(shardOf(userId))}r|${userId}|${runId}`,
    runText: (userId, runId, stream) =>
      `${shardBase(shardOf(userId))}t|${userId}|${stream}|${runId}`,
    userRuns: (userId) => `${shardBase(shardOf(userId))}runs|${userId}`,
    userLiveRuns: (userId) => `${shardBase(shardOf(userId))}live|${userId}`,
    inbox: (nodeId) => `${prefix}:{n:${nodeId}}:inbox`,
    inboxKeyParts: () => [`${prefix}:{n:`, '}:inbox'],
    nodeUsers: (nodeId) => `${prefix}:{n:${nodeId}}:users`,
    nodeReaped: (nodeId) => `${prefix}:{n:${nodeId}}:reaped`,
    nodes: () => `${prefix}:nodes`,
    buffers: () => `${prefix}:buffers`,
    clusterConfig: () => `${prefix}:config`,
    upstream: () => `${prefix}:{up}:stream`,
    upstreamIdempotency: (userId, messageId) => `${prefix}:{up}:m:${userId}:${messageId}`,
  };
}
