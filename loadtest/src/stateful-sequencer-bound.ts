import type { IngestEntry, KeyLayout, RedisClient } from '@agentwire/redis';

/**
 * A bound, not a design: what Redis would do per call if the sequencer kept
 * every user's state (seq, the run's scalars, the ids it saw lately) in its
 * own memory while it holds the shards' leases, and sent Redis only the
 * reads it cannot avoid and blind writes. It keeps what each guarantee
 * writes per event today: the dedupe key, the log entry, the user's seq
 * (for replays and resumes), the run's state, one inbox entry per call, and
 * the routes read with the writes fenced against a route registered
 * meanwhile (guarantee 3) and against a lost lease. It leaves out what such
 * a sequencer would also need (loading the state when it takes a shard,
 * history marks, runs' texts), so its cost is a lower bound of that design.
 * Critical events of one run per user only, as the suite's fleet sends.
 */

/** The sequencer's memory: each user's last seq. */
export type SequencerMemory = Map<string, number>;

/** One Redis command: name, then its arguments. */
export type Command = readonly string[];

/** What one call sends: the reads first, then the writes, fenced by WATCH on `watch`. */
export interface BoundCall {
  reads: Command[];
  watch: string[];
  writes: Command[];
}

export interface BoundCallOptions {
  keys: KeyLayout;
  /** The edge every user is routed to (one inbox). */
  inbox: string;
  leaseKeys: readonly string[];
  /** The group and consumer the shards are read with. */
  group: string;
  consumer: string;
  dedupeMs: number;
  retentionMax: number;
  runId: string;
  now: number;
}

/** The commands of one call for `events`, taking seqs from (and advancing) `memory`. */
export function boundCall(
  events: readonly IngestEntry[],
  memory: SequencerMemory,
  options: BoundCallOptions,
): BoundCall {
  const { keys } = options;
  const shards = [...new Set(events.map((event) => keys.shardOf(event.userId)))];
  const users = [...new Set(events.map((event) => event.userId))];
  const reads: Command[] = shards.map((shard) => [
    'XREADGROUP',
    'GROUP',
    options.group,
    options.consumer,
    'COUNT',
    '1000',
    'NOACK',
    'STREAMS',
    keys.ingest(shard),
    '>',
  ]);
  for (const user of users) reads.push(['HKEYS', keys.userRoutes(user)]);

  const now = String(options.now);
  const retention = String(options.retentionMax);
  const dedupe = String(options.dedupeMs);
  const writes: Command[] = [];
  const frames: string[] = [];
  for (const event of events) {
    const seq = (memory.get(event.userId) ?? 0) + 1;
    memory.set(event.userId, seq);
    const frame = `{"type":"event","seq":${seq},${event.body}`;
    frames.push(frame);
    const dedupeKey = `${keys.shardBase(keys.shardOf(event.userId))}d:${event.userId}:${event.id}`;
    writes.push(['SET', dedupeKey, String(seq), 'PX', dedupe]);
    writes.push([
      'XADD',
      keys.userLog(event.userId),
      'MAXLEN',
      retention,
      `${seq}-0`,
      'f',
      frame,
      't',
      now,
    ]);
  }
  for (const user of users) {
    writes.push(['HSET', keys.userMeta(user), 'seq', String(memory.get(user))]);
    writes.push(['HSET', keys.run(user, options.runId), 'updated', now, 'status', 'running']);
  }
  writes.push(['XADD', options.inbox, 'MAXLEN', '~', '100000', '*', 'e', frames.join('\n')]);
  return {
    reads,
    watch: [...options.leaseKeys, ...users.map((user) => keys.userRoutes(user))],
    writes,
  };
}

/** Sends a bound call: the reads in one pipeline, then WATCH, MULTI, the writes, EXEC in another. */
export async function sendBoundCall(client: RedisClient, call: BoundCall): Promise<void> {
  const reads = client.pipeline();
  for (const [name, ...args] of call.reads) reads.call(name as string, ...args);
  await reads.exec();
  const writes = client.pipeline();
  writes.call('WATCH', ...call.watch);
  writes.call('MULTI');
  for (const [name, ...args] of call.writes) writes.call(name as string, ...args);
  writes.call('EXEC');
  const replies = await writes.exec();
  const exec = replies?.[replies.length - 1];
  if (exec === undefined || exec[0] !== null || exec[1] === null) {
    throw new Error('the fenced writes did not run (a watched key changed, or EXEC failed)');
  }
}
