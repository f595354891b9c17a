import { type KeyLayout, type RedisClient, ScriptCode, Scripts } from '@agentwire/redis';
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

export interface PersistSettings {
  retentionMs: number;
  retentionMaxEvents: number;
  dedupeWindowMs: number;
}

/**
 * Sequences and persists a batch of one shard in one script call, under the
 * shard's lease value (fencing token). See persist-batch-1.lua.
 */
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
  const args: Array<string | number> = [
    keys.shardBase(shard),
    leaseValue,
    Date.now(),
    settings.retentionMs,
    settings.retentionMaxEvents,
    settings.dedupeWindowMs,
    freshEpoch,
    expectedMark ?? '',
  ];
  for (const entry of entries) {
    args.push(entry.entryId, entry.eventId, entry.userId, entry.critical ? '1' : '0', entry.body);
  }
  const reply = (await Scripts.persistBatch.run(
    client,
    [keys.lease(shard)],
    args,
  )) as ScriptReply[];
  if (reply[0] === ScriptCode.Fenced) return { fenced: true };
  if (reply[0] === ScriptCode.HistoryLost) {
    return { fenced: false, historyLost: true, storedMark: Number(reply[1]) };
  }

  const forwards: Forward[] = [];
  let duplicates = 0;
  let at = 1;
  for (const entry of entries) {
    const status = Number(reply[at]);
    const seq = Number(reply[at + 1]);
    const frame = String(reply[at + 2]);
    const epoch = String(reply[at + 3]);
    const nodeCount = Number(reply[at + 4]);
    const nodes = reply.slice(at + 5, at + 5 + nodeCount).map(String);
    at += 5 + nodeCount;
    if (status === 0) {
      duplicates++;
      continue;
    }
    forwards.push({ userId: entry.userId, seq, frame, epoch, nodes });
  }
  return { fenced: false, historyLost: false, mark: Number(reply[0]), forwards, duplicates };
}
