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

/**
 * Moves the user's acknowledged position (any connection's cumulative ack).
 * Read by the buffer's "not acknowledged" webhook job.
 */
export async function recordAck(
  client: RedisClient,
  keys: KeyLayout,
  userId: string,
  seq: number,
): Promise<boolean> {
  return (await Scripts.recordAck.run(client, [keys.userMeta(userId)], [seq])) === 1;
}
