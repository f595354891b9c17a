import { type KeyLayout, type RedisClient, ScriptCode, Scripts } from '@agentwire/redis';
import type { ScriptReply } from '@agentwire/redis';

/** One ingest stream entry as the buffer reads it. */
export interface ShardEntry {
  entryId: string;
  eventId: string;
  userId: string;
  critical: boolean;
  body: string;
  /** '' when the event has no run (protocol.md section 9). */
  runId: string;
  /** RunKindCode, or '' for any other event of the run. */
  runKind: string;
  /** Appends: the stream. */
  stream: string;
  /** Appends: the text; run_stalled: the last event time it was detected on. */
  text: string;
}

/** What to forward for one entry: the frame and the nodes that hold the user. */
export interface Forward {
  userId: string;
  seq: number;
  frame: string;
  epoch: string;
  nodes: string[];
  /** Appends: the chunk given (0 otherwise), the run and the stream, for the edge's chunk rule. */
  chunk: number;
  runId: string;
  stream: string;
}

/** The entries of one shard read in one batch, under the lease value held when read. */
export interface ShardBatch {
  shard: number;
  leaseValue: string;
  /** The shard's history mark this process last saw; undefined when unknown. */
  expectedMark?: number | undefined;
  entries: readonly ShardEntry[];
  /** Entry ids to acknowledge without processing (malformed); used in forwarding mode. */
  skipped: readonly string[];
  /**
   * The oldest entry id read for this batch, malformed ones included: the
   * order guard refuses the shard while an older entry of it is pending in
   * the group (see persist-batch-1.lua). Unset: no guard.
   */
  oldestReadId?: string | undefined;
}

/**
 * Read mode (forwarding only): the script reads up to `count` new entries of
 * the shard's ingest stream itself, so reading, persisting and forwarding
 * are one atomic step and no body travels to the buffer and back.
 */
export interface ShardRead {
  shard: number;
  leaseValue: string;
  expectedMark?: number | undefined;
  count: number;
}

/** Forwarding inside the script (see persist-batch-1.lua): inboxes and XACK in one step. */
export interface ScriptForwarding {
  inboxMaxLen: number;
  /** Consumer group of the ingest streams. */
  group: string;
  /** The group's consumer name: required by read mode. */
  consumer?: string;
}

export interface PersistSettings {
  retentionMs: number;
  retentionMaxEvents: number;
  dedupeWindowMs: number;
  /** Bounds of run texts (protocol.md section 9). */
  runs: RunLimits;
}

export interface RunLimits {
  maxBytes: number;
  maxPerUser: number;
  ttlMs: number;
  /** 0: stall detection off (the shard's running set is not kept). */
  stallMs: number;
}

/** How one shard of a call came out. */
export type ShardOutcome =
  | { shard: number; status: 'fenced' }
  /** The stored history mark is below the one the caller remembered: writes were lost. */
  | { shard: number; status: 'history-lost'; storedMark: number }
  /** Older entries of the shard are pending in the group: claim and drain them first. */
  | { shard: number; status: 'pending-before' }
  | {
      shard: number;
      status: 'done';
      /** The shard's history mark after the call. */
      mark: number;
      /** Read mode only: what the script read of the shard. */
      read?: ReadResult | undefined;
      /** What the caller still has to forward (none in forwarding mode: the script did). */
      forwards: Forward[];
      /** Users whose logs got a critical event of the call (for the history memory). */
      writtenUsers: string[];
    };

export interface ReadResult {
  /** Entries read, malformed ones included. */
  count: number;
  /** Of those, entries skipped as malformed (not written by an edge). */
  malformed: number;
  /** Newer entries than this id are unread: the id to block on. */
  lastId: string;
}

export interface ShardsOutcome {
  shards: ShardOutcome[];
  /** Entries accepted (new or redelivered). */
  processed: number;
  duplicates: number;
}

/**
 * Sequences and persists the batches of one or more shards in one script
 * call, each under its shard's lease value (fencing token) and history mark
 * (lost-write detection). With `forwarding`, the same call also appends to
 * the edges' inboxes and acknowledges the entries. See persist-batch-1.lua.
 * `group` is the consumer group the order guard looks at when not
 * forwarding (forwarding names its own).
 */
export async function persistShards(
  client: RedisClient,
  keys: KeyLayout,
  batches: ReadonlyArray<ShardBatch | ShardRead>,
  settings: PersistSettings,
  freshEpoch: string,
  forwarding?: ScriptForwarding,
  group?: string,
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
    forwarding?.group ?? group ?? '',
    settings.runs.maxBytes,
    settings.runs.maxPerUser,
    settings.runs.ttlMs,
    settings.runs.stallMs,
    batches.length,
    forwarding?.consumer ?? '',
  ];
  for (const batch of batches) {
    const reading = 'count' in batch;
    args.push(
      keys.shardBase(batch.shard),
      keys.lease(batch.shard),
      batch.leaseValue,
      keys.ingest(batch.shard),
      batch.expectedMark ?? '',
      reading ? -batch.count : batch.entries.length,
      forwarding && !reading ? batch.skipped.length : 0,
      reading ? '' : (batch.oldestReadId ?? ''),
    );
    if (reading) continue;
    for (const entry of batch.entries) {
      args.push(
        entry.entryId,
        entry.eventId,
        entry.userId,
        entry.critical ? '1' : '0',
        entry.body,
        entry.runId,
        entry.runKind,
        entry.stream,
        entry.text,
      );
    }
    if (forwarding) args.push(...batch.skipped);
  }
  const firstShard = batches[0]?.shard ?? 0;
  const [results, statuses, flat, reads] = (await Scripts.persistBatch.run(
    client,
    [keys.lease(firstShard)],
    args,
  )) as [number[], number[], ScriptReply[], Array<number | string>];

  const forwardsByIndex = forwarding ? new Map<number, Forward[]>() : parseForwards(flat);
  const usersByIndex = forwarding ? parseWrittenUsers(flat) : writtenUsersOf(forwardsByIndex);
  let readAt = 0;
  const shards: ShardOutcome[] = batches.map((batch, i) => {
    let read: ReadResult | undefined;
    if ('count' in batch) {
      read = {
        count: Number(reads[readAt]),
        malformed: Number(reads[readAt + 1]),
        lastId: String(reads[readAt + 2]),
      };
      readAt += 3;
    }
    const code = Number(results[2 * i]);
    const mark = Number(results[2 * i + 1]);
    if (code === ScriptCode.Fenced) return { shard: batch.shard, status: 'fenced' };
    if (code === ScriptCode.HistoryLost) {
      return { shard: batch.shard, status: 'history-lost', storedMark: mark };
    }
    if (code === ScriptCode.PendingBefore) return { shard: batch.shard, status: 'pending-before' };
    return {
      shard: batch.shard,
      status: 'done',
      mark,
      forwards: forwardsByIndex.get(i) ?? [],
      writtenUsers: usersByIndex.get(i) ?? [],
      read,
    };
  });
  let duplicates = 0;
  for (const status of statuses) if (status === 0) duplicates++;
  return { shards, processed: statuses.length - duplicates, duplicates };
}

/** Forwarding mode: the flat (shard index, userId) list, by shard. */
function parseWrittenUsers(flat: readonly ScriptReply[]): Map<number, string[]> {
  const byIndex = new Map<number, string[]>();
  for (let at = 0; at + 1 < flat.length; at += 2) {
    const index = Number(flat[at]) - 1;
    let users = byIndex.get(index);
    if (users === undefined) {
      users = [];
      byIndex.set(index, users);
    }
    users.push(String(flat[at + 1]));
  }
  return byIndex;
}

/** The users whose logs got a critical event, once each, by shard. */
function writtenUsersOf(forwardsByIndex: ReadonlyMap<number, Forward[]>): Map<number, string[]> {
  const byIndex = new Map<number, string[]>();
  for (const [index, forwards] of forwardsByIndex) {
    const users = new Set<string>();
    for (const forward of forwards) if (forward.seq > 0) users.add(forward.userId);
    byIndex.set(index, [...users]);
  }
  return byIndex;
}

/**
 * Reads the flat forward list (shard index, seq, frame, epoch, userId, chunk,
 * runId, stream, routeCount, nodes...) by shard.
 */
function parseForwards(flat: readonly ScriptReply[]): Map<number, Forward[]> {
  const byIndex = new Map<number, Forward[]>();
  let at = 0;
  while (at < flat.length) {
    const index = Number(flat[at]) - 1;
    const nodeCount = Number(flat[at + 8]);
    let list = byIndex.get(index);
    if (list === undefined) {
      list = [];
      byIndex.set(index, list);
    }
    list.push({
      seq: Number(flat[at + 1]),
      frame: String(flat[at + 2]),
      epoch: String(flat[at + 3]),
      userId: String(flat[at + 4]),
      chunk: Number(flat[at + 5]),
      runId: String(flat[at + 6]),
      stream: String(flat[at + 7]),
      nodes: flat.slice(at + 9, at + 9 + nodeCount).map(String),
    });
    at += 9 + nodeCount;
  }
  return byIndex;
}

export type PersistOutcome =
  | { fenced: true }
  /** The shard's history mark is below the one the caller remembered: writes were lost. */
  | { fenced: false; historyLost: true; storedMark: number }
  | {
      fenced: false;
      historyLost: false;
      /** The shard's history mark after this batch. */
      mark: number;
      forwards: Forward[];
      duplicates: number;
    };

/** One shard's batch, forwarded by the caller: the shape the cluster path uses. */
export async function persistBatch(
  client: RedisClient,
  keys: KeyLayout,
  shard: number,
  leaseValue: string,
  entries: readonly ShardEntry[],
  settings: PersistSettings,
  freshEpoch: string,
  /** The history mark the caller last saw for this shard; undefined when unknown. */
  expectedMark?: number,
): Promise<PersistOutcome> {
  const outcome = await persistShards(
    client,
    keys,
    [{ shard, leaseValue, expectedMark, entries, skipped: [] }],
    settings,
    freshEpoch,
  );
  const result = outcome.shards[0] as ShardOutcome;
  if (result.status === 'fenced') return { fenced: true };
  if (result.status === 'pending-before') {
    throw new Error('persist-batch: order guard refused a batch that asked for no guard');
  }
  if (result.status === 'history-lost') {
    return { fenced: false, historyLost: true, storedMark: result.storedMark };
  }
  return {
    fenced: false,
    historyLost: false,
    mark: result.mark,
    forwards: result.forwards,
    duplicates: outcome.duplicates,
  };
}
