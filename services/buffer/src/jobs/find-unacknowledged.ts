import { type KeyLayout, type RedisClient, Scripts } from '@agentwire/redis';

/** What the "not acknowledged" webhook reports for one user. */
export interface UnacknowledgedReport {
  /** Stable per report, for the receiver's dedupe: `<userId>:<epoch>:<toSeq>`. */
  id: string;
  type: 'unacknowledged';
  userId: string;
  epoch: string;
  fromSeq: number;
  toSeq: number;
  /** The critical event frames, in seq order. */
  events: unknown[];
}

export interface FindUnacknowledgedOptions {
  /** An event older than this that no connection acknowledged is reported. */
  afterMs: number;
  /** Only users with a critical event within this window are looked at. */
  lookbackMs: number;
  /** Events per report at most. */
  maxEvents: number;
  now?: number;
}

/**
 * Finds critical events that no connection of their user acknowledged within
 * `afterMs` (the edges record each user's highest acknowledged seq), and
 * marks them reported so each is reported once. Runs as a BullMQ job, never
 * on the event path: it walks the shards' user indexes, not the events.
 */
export async function findUnacknowledged(
  client: RedisClient,
  keys: KeyLayout,
  options: FindUnacknowledgedOptions,
): Promise<UnacknowledgedReport[]> {
  const now = options.now ?? Date.now();
  const reports: UnacknowledgedReport[] = [];
  for (let shard = 0; shard < keys.shards; shard++) {
    const users = await client.zrangebyscore(
      keys.shardUsers(shard),
      now - options.lookbackMs,
      '+inf',
    );
    for (const userId of users) {
      const report = await overdueOf(client, keys, userId, now, options);
      if (report) reports.push(report);
    }
  }
  return reports;
}

async function overdueOf(
  client: RedisClient,
  keys: KeyLayout,
  userId: string,
  now: number,
  options: FindUnacknowledgedOptions,
): Promise<UnacknowledgedReport | undefined> {
  const [epoch, seq, acked, notified] = await client.hmget(
    keys.userMeta(userId),
    'epoch',
    'seq',
    'acked',
    'notified',
  );
  if (!epoch || !seq) return undefined;
  const covered = Math.max(Number(acked ?? 0), Number(notified ?? 0));
  if (Number(seq) <= covered) return undefined;
  const entries = await client.xrange(
    keys.userLog(userId),
    `${covered + 1}-0`,
    '+',
    'COUNT',
    options.maxEvents,
  );
  const overdue = entries.filter(([, fields]) => Number(fields[3]) <= now - options.afterMs);
  if (overdue.length === 0) return undefined;
  const fromSeq = Number.parseInt(overdue[0]?.[0] ?? '0', 10);
  const toSeq = Number.parseInt(overdue[overdue.length - 1]?.[0] ?? '0', 10);
  const marked = await Scripts.markNotified.run(client, [keys.userMeta(userId)], [toSeq, epoch]);
  if (marked !== 1) return undefined;
  return {
    id: `${userId}:${epoch}:${toSeq}`,
    type: 'unacknowledged',
    userId,
    epoch,
    fromSeq,
    toSeq,
    events: overdue.map(([, fields]) => JSON.parse(fields[1] ?? 'null') as unknown),
  };
}
