import { type KeyLayout, type RedisClient, Scripts } from '@agentwire/redis';
import type { ScriptReply } from '@agentwire/redis';

/** One ingest stream entry as the buffer reads it. */
export interface ShardEntry {
  entryId: string;
  eventId: string;
  userId: string;
  critical: boolean;
  body: string;
}

/** What to forward for one entry: the frame and the nodes that hold the user. */
export interface Forward {
  userId: string;
  seq: number;
  frame: string;
  epoch: string;
  nodes: string[];
}

/** The entries of one shard read in one batch, under the lease value held when read. */
export interface ShardBatch {
  shard: number;
  leaseValue: string;
  entries: readonly ShardEntry[];
  /** Entry ids to acknowledge without processing (malformed); used in forwarding mode. */
  skipped: readonly string[];
}

/** Forwarding inside the script (see persist-batch-1.lua): inboxes and XACK in one step. */
export interface ScriptForwarding {
  inboxMaxLen: number;
  /** Consumer group of the ingest streams. */
  group: string;
}

export interface PersistSettings {
  retentionMs: number;
  retentionMaxEvents: number;
  dedupeWindowMs: number;
}

export interface ShardsOutcome {
  /** Shards whose lease was not held: their entries were left pending. */
  fencedShards: number[];
  /** What the caller still has to forward (always empty in forwarding mode). */
  forwards: Forward[];
  /** Entries accepted (new or redelivered). */
  processed: number;
  duplicates: number;
}

/**
 * Sequences and persists the batches of one or more shards in one script
 * call, each under its shard's lease value (fencing token). With
 * `forwarding`, the same call also appends to the edges' inboxes and
 * acknowledges the entries. See persist-batch-1.lua.
 */
export async function persistShards(
  client: RedisClient,
  keys: KeyLayout,
  batches: readonly ShardBatch[],
  settings: PersistSettings,
  freshEpoch: string,
  forwarding?: ScriptForwarding,
): Promise<ShardsOutcome> {
  const [inboxBefore, inboxAfter] = keys.inboxKeyParts();
  const args: Array<string | number> = [
    Date.now(),
    settings.retentionMs,
    settings.retentionMaxEvents,
    settings.dedupeWindowMs,
    freshEpoch,
    forwarding ? inboxBefore : '',
    inboxAfter,
    forwarding?.inboxMaxLen ?? 0,
    forwarding?.group ?? '',
    batches.length,
  ];
  for (const batch of batches) {
    args.push(
      keys.shardBase(batch.shard),
      keys.lease(batch.shard),
      batch.leaseValue,
      keys.ingest(batch.shard),
      batch.entries.length,
      forwarding ? batch.skipped.length : 0,
    );
    for (const entry of batch.entries) {
      args.push(entry.entryId, entry.eventId, entry.userId, entry.critical ? '1' : '0', entry.body);
    }
    if (forwarding) args.push(...batch.skipped);
  }
  const firstShard = batches[0]?.shard ?? 0;
  const [fenced, statuses, flat] = (await Scripts.persistBatch.run(
    client,
    [keys.lease(firstShard)],
    args,
  )) as [number[], number[], ScriptReply[]];

  const fencedShards: number[] = [];
  for (let i = 0; i < batches.length; i++) {
    if (fenced[i] === 1) fencedShards.push((batches[i] as ShardBatch).shard);
  }
  let duplicates = 0;
  for (const status of statuses) if (status === 0) duplicates++;
  return {
    fencedShards,
    forwards: parseForwards(flat),
    processed: statuses.length - duplicates,
    duplicates,
  };
}

/** Reads the script's flat forward list: seq, frame, epoch, userId, routeCount, nodes... */
function parseForwards(flat: readonly ScriptReply[]): Forward[] {
  const forwards: Forward[] = [];
  let at = 0;
  while (at < flat.length) {
    const nodeCount = Number(flat[at + 4]);
    forwards.push({
      seq: Number(flat[at]),
      frame: String(flat[at + 1]),
      epoch: String(flat[at + 2]),
      userId: String(flat[at + 3]),
      nodes: flat.slice(at + 5, at + 5 + nodeCount).map(String),
    });
    at += 5 + nodeCount;
  }
  return forwards;
}

export type PersistOutcome =
  { fenced: true } | { fenced: false; forwards: Forward[]; duplicates: number };

/** One shard's batch, forwarded by the caller: the shape the cluster path uses. */
export async function persistBatch(
  client: RedisClient,
  keys: KeyLayout,
  shard: number,
  leaseValue: string,
  entries: readonly ShardEntry[],
  settings: PersistSettings,
  freshEpoch: string,
): Promise<PersistOutcome> {
  const outcome = await persistShards(
    client,
    keys,
    [{ shard, leaseValue, entries, skipped: [] }],
    settings,
    freshEpoch,
  );
  if (outcome.fencedShards.length > 0) return { fenced: true };
  return { fenced: false, forwards: outcome.forwards, duplicates: outcome.duplicates };
}
