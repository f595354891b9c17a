import type { KeyLayout } from './key-layout.js';
import { Scripts, type ScriptReply } from './lua-script.js';
import type { RedisClient } from './redis-client.js';
import type { ReplayedEvent } from './session-store.js';

export interface HistoryPage {
  /** '' while the user has no history. */
  epoch: string;
  latestSeq: number;
  oldestSeq: number;
  resumed: boolean;
  /** Retained critical events after the position, in seq order: at most `limit`, and none after the one that reached `maxBytes`. */
  events: ReplayedEvent[];
}

/**
 * One page of a user's retained critical events after `after` (GET
 * /v1/history), read atomically with the welcome's position fields (see
 * read-history-2.lua). Creates nothing.
 */
export async function readHistory(
  client: RedisClient,
  keys: KeyLayout,
  userId: string,
  after: number,
  epoch: string | undefined,
  limit: number,
  maxBytes: number,
): Promise<HistoryPage> {
  const reply = (await Scripts.readHistory.run(
    client,
    [keys.userMeta(userId), keys.userLog(userId)],
    [after, epoch ?? '', limit, maxBytes],
  )) as ScriptReply[];
  const events: ReplayedEvent[] = [];
  for (let i = 4; i + 1 < reply.length; i += 2) {
    events.push({ seq: Number(reply[i]), frame: String(reply[i + 1]) });
  }
  return {
    epoch: String(reply[0] ?? ''),
    latestSeq: Number(reply[1]),
    oldestSeq: Number(reply[2]),
    resumed: reply[3] === 1,
    events,
  };
}

/** The user's newest critical seq (0 when the user has no history). */
export async function readLatestSeq(
  client: RedisClient,
  keys: KeyLayout,
  userId: string,
): Promise<number> {
  const seq = await client.hget(keys.userMeta(userId), 'seq');
  return seq === null ? 0 : Number(seq);
}
