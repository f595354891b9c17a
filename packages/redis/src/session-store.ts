import type { KeyLayout } from './key-layout.js';
import { ScriptCode, Scripts, type ScriptReply } from './lua-script.js';
import type { RedisClient } from './redis-client.js';
import { parseRunRecords, runTextKeyParts, type RunRecord } from './run-store.js';

export interface OpenSessionRequest {
  userId: string;
  nodeId: string;
  /** Client's lastSeq; undefined when the client starts live. */
  lastSeq: number | undefined;
  /** Client's epoch; undefined when not sent. */
  epoch: string | undefined;
  /** Epoch to create when the user has no history yet. */
  freshEpoch: string;
  retentionMs: number;
  /** 0 = unlimited. */
  maxConnectionsPerUser: number;
  pageSize: number;
  /**
   * Edge nodes whose heartbeat expired but that are not reaped yet: their
   * routes do not count toward the per-user limit, so a dead node's
   * leftovers do not lock users out until the reaper runs. @default []
   */
  expiredNodeIds?: readonly string[];
}

export interface ReplayedEvent {
  seq: number;
  frame: string;
}

export type OpenSessionResult =
  | { ok: false; reason: 'user_limit'; connections: number }
  | {
      ok: true;
      epoch: string;
      latestSeq: number;
      oldestSeq: number;
      resumed: boolean;
      /** First seq to replay; 0 when nothing is replayed. */
      replayFrom: number;
      /** First page of the replay, in seq order. */
      page: ReplayedEvent[];
      /** The user's running and stalled runs, read with the route registration. */
      runs: RunRecord[];
    };

/**
 * Registers this node as a route of the user and reads the replay start in
 * one atomic step (see open-session-4.lua for why that closes the race).
 */
export async function openSession(
  client: RedisClient,
  keys: KeyLayout,
  request: OpenSessionRequest,
): Promise<OpenSessionResult> {
  const userId = request.userId;
  const runKeyPrefix = keys.run(userId, '');
  const [textKeyPrefix] = runTextKeyParts(keys, userId, '');
  const reply = (await Scripts.openSession.run(
    client,
    [
      keys.userMeta(userId),
      keys.userLog(userId),
      keys.userRoutes(userId),
      keys.userLiveRuns(userId),
    ],
    [
      request.nodeId,
      request.lastSeq ?? -1,
      request.epoch ?? '',
      request.freshEpoch,
      request.retentionMs,
      request.maxConnectionsPerUser,
      request.pageSize,
      runKeyPrefix,
      textKeyPrefix,
      ...(request.expiredNodeIds ?? []),
    ],
  )) as ScriptReply[];
  if (reply[0] === ScriptCode.UserLimitReached) {
    return { ok: false, reason: 'user_limit', connections: Number(reply[1]) };
  }
  const { records: runs, next } = parseRunRecords(reply, 7, Number(reply[6]));
  const page: ReplayedEvent[] = [];
  for (let i = next; i + 1 < reply.length; i += 2) {
    page.push({ seq: Number(reply[i]), frame: String(reply[i + 1]) });
  }
  return {
    ok: true,
    epoch: String(reply[1]),
    latestSeq: Number(reply[2]),
    oldestSeq: Number(reply[3]),
    resumed: reply[4] === 1,
    replayFrom: Number(reply[5]),
    page,
    runs,
  };
}

/** Reads the next replay page: events with seq >= fromSeq, at most count. */
export async function readLogPage(
  client: RedisClient,
  keys: KeyLayout,
  userId: string,
  fromSeq: number,
  count: number,
): Promise<ReplayedEvent[]> {
  const entries = await client.xrange(keys.userLog(userId), `${fromSeq}-0`, '+', 'COUNT', count);
  return entries.map(([id, fields]) => ({
    seq: Number.parseInt(id, 10),
    frame: fields[1] ?? '',
  }));
}

/** Removes one connection of this node from the user's routes. */
export async function closeSession(
  client: RedisClient,
  keys: KeyLayout,
  userId: string,
  nodeId: string,
): Promise<number> {
  return Number(await Scripts.closeSession.run(client, [keys.userRoutes(userId)], [nodeId]));
}

/** Users per record-acks call: bounds a call's arguments and how long it holds Redis. */
export const RECORD_ACKS_MAX_USERS = 500;

export interface RecordAcksResult {
  /** Positions that moved. */
  moved: number;
  /** Positions whose call failed: not written (the user's next ack writes again). */
  failed: number;
}

/**
 * Moves users' acknowledged positions (each a cumulative ack of any of the
 * user's connections), read by the buffer's "not acknowledged" webhook job.
 * One record-acks-1.lua call per shard (one more per RECORD_ACKS_MAX_USERS
 * users of a shard), all sent at once: a call's keys share the shard's slot,
 * so it routes on a Redis Cluster, and a failed call loses only its own
 * users' writes.
 */
export async function recordAcks(
  client: RedisClient,
  keys: KeyLayout,
  positions: Iterable<readonly [userId: string, seq: number]>,
): Promise<RecordAcksResult> {
  const result: RecordAcksResult = { moved: 0, failed: 0 };
  const calls: Array<Promise<void>> = [];
  const send = (args: string[]): void => {
    calls.push(
      Scripts.recordAcks.run(client, [args[0] as string], args).then(
        (moved) => void (result.moved += Number(moved)),
        () => void (result.failed += args.length / 2),
      ),
    );
  };
  // shard -> (meta key, seq) pairs not sent yet
  const byShard = new Map<number, string[]>();
  for (const [userId, seq] of positions) {
    const shard = keys.shardOf(userId);
    let args = byShard.get(shard);
    if (!args) byShard.set(shard, (args = []));
    args.push(keys.userMeta(userId), String(seq));
    if (args.length === RECORD_ACKS_MAX_USERS * 2) {
      send(args);
      byShard.delete(shard);
    }
  }
  for (const args of byShard.values()) send(args);
  await Promise.all(calls);
  return result;
}
