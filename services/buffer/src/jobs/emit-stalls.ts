import { RUN_STALLED_EVENT } from '@agentwire/protocol';
import { type KeyLayout, type RedisClient, Scripts } from '@agentwire/redis';

/** Members of one shard's `running` set looked at per script call. */
const MEMBERS_PER_CALL = 500;
/** Calls per shard per job run at most; what is left waits for the next run. */
const MAX_CALLS_PER_SHARD = 20;

/** How often the emit-stalls job runs: a quarter of RUN_STALL_MS, between 250 ms and 5 s. */
export function stallCheckEveryMs(stallMs: number): number {
  return Math.max(250, Math.min(Math.floor(stallMs / 4), 5000));
}

/**
 * Emits run_stalled for every running run with no event for `stallMs`
 * (protocol.md section 9), into each shard's ingest stream; the sequencer
 * gives it a seq. One script call per shard, all shards at once: on a
 * cluster each call goes to its shard's master. Returns how many were emitted.
 */
export async function emitStalls(
  client: RedisClient,
  keys: KeyLayout,
  stallMs: number,
  now = Date.now(),
): Promise<number> {
  const perShard = await Promise.all(
    Array.from({ length: keys.shards }, (_, shard) =>
      emitShardStalls(client, keys, shard, stallMs, now),
    ),
  );
  return perShard.reduce((sum, emitted) => sum + emitted, 0);
}

async function emitShardStalls(
  client: RedisClient,
  keys: KeyLayout,
  shard: number,
  stallMs: number,
  now: number,
): Promise<number> {
  let emitted = 0;
  for (let call = 0; call < MAX_CALLS_PER_SHARD; call++) {
    const reply = (await Scripts.emitStalls.run(
      client,
      [keys.shardRunning(shard)],
      [keys.shardBase(shard), now, now - stallMs, MEMBERS_PER_CALL, RUN_STALLED_EVENT],
    )) as [number, number];
    emitted += reply[0];
    // Every member looked at was emitted, dropped or moved past the cutoff.
    if (reply[1] < MEMBERS_PER_CALL) break;
  }
  return emitted;
}
