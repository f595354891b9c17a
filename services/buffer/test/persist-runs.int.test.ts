import { createKeyLayout, readRun } from '@agentwire/redis';
import { uniquePrefix } from '@agentwire/testing';
import { describe, expect, it } from 'vitest';
import { type PersistSettings, type ShardEntry, persistBatch } from '../src/persist-batch.js';
import { ShardLease } from '../src/shard-lease.js';
import { appendEntry, persistSettings, runEventEntry } from './support/persist-fixtures.js';
import { useSharedTestRedis } from './support/shared-test-redis.js';

const redis = useSharedTestRedis();

/** A shard of a fresh key space, leased, and a persist function for it. */
async function sequencer(
  name: string,
  userId: string,
  settings: PersistSettings = persistSettings,
) {
  const keys = createKeyLayout(uniquePrefix(name), 4);
  const shard = keys.shardOf(userId);
  const lease = new ShardLease(redis.client, keys, shard, 'replica-a', 5000);
  expect(await lease.acquire()).toBe(true);
  const persist = async (entries: ShardEntry[]) => {
    const outcome = await persistBatch(
      redis.client,
      keys,
      shard,
      lease.value as string,
      entries,
      settings,
      'ep',
    );
    if (outcome.fenced || outcome.historyLost) throw new Error('unexpectedly refused');
    return outcome;
  };
  return { keys, shard, persist };
}

describe('persist-batch script: runs and their text streams', () => {
  it('gives appends contiguous chunks per stream, keeps the text and forwards the chunk', async () => {
    const { keys, persist } = await sequencer('chunks', 'u1');
    const first = await persist([
      runEventEntry('1-1', 'start', 'u1', 'r1'),
      appendEntry('1-2', 't1', 'u1', 'r1', 'answer', 'Hel'),
      appendEntry('1-3', 't2', 'u1', 'r1', 'thinking', 'hmm'),
      appendEntry('1-4', 't3', 'u1', 'r1', 'answer', 'lo '),
    ]);
    const second = await persist([appendEntry('2-1', 't4', 'u1', 'r1', 'answer', 'wörld ✓')]);
    const chunks = [...first.forwards, ...second.forwards].map((f) => [f.stream, f.chunk]);
    expect(chunks).toEqual([
      ['', 0],
      ['answer', 1],
      ['thinking', 1],
      ['answer', 2],
      ['answer', 3],
    ]);
    expect(second.forwards[0]?.frame).toMatch(/^\{"type":"event","chunk":3,"id":"t4"/);
    expect(second.forwards[0]?.runId).toBe('r1');

    const run = await readRun(redis.client, keys, 'u1', 'r1');
    expect(run?.status).toBe('running');
    expect(run?.streams.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'answer', chunks: 3, truncated: false, text: 'Hello wörld ✓' },
      { name: 'thinking', chunks: 1, truncated: false, text: 'hmm' },
    ]);
    expect(await readRun(redis.client, keys, 'u1', 'other')).toBeUndefined();
  });

  it('keeps a repeated id at its chunk: a new entry is a duplicate, the same entry is forwarded again', async () => {
    const { keys, persist } = await sequencer('dedupe', 'u1');
    await persist([appendEntry('1-1', 'a', 'u1', 'r1', 'main', 'x')]);
    const again = await persist([
      appendEntry('2-1', 'a', 'u1', 'r1', 'main', 'x'),
      appendEntry('1-1', 'a', 'u1', 'r1', 'main', 'x'),
      appendEntry('2-2', 'b', 'u1', 'r1', 'main', 'y'),
    ]);
    expect(again.duplicates).toBe(1);
    expect(again.forwards.map((f) => f.chunk)).toEqual([1, 2]);
    const run = await readRun(redis.client, keys, 'u1', 'r1');
    expect(run?.streams).toEqual([{ name: 'main', chunks: 2, truncated: false, text: 'xy' }]);
  });

  it('ends a run on a run-end event; later appends are sequenced but do not reopen it', async () => {
    const { keys, persist } = await sequencer('end', 'u1');
    await persist([appendEntry('0-1', 'z', 'u1', 'r1', 'main', '')]);
    expect(await redis.client.smembers(keys.userLiveRuns('u1'))).toEqual(['r1']);
    const ended = await persist([
      appendEntry('1-1', 'a', 'u1', 'r1', 'main', 'x'),
      runEventEntry('1-2', 'done', 'u1', 'r1', true),
    ]);
    // The end carries the final chunk counts, in the log as on the wire.
    expect(ended.forwards[1]?.frame).toMatch(
      /^\{"type":"event","seq":1,"runChunks":\{"main":2\},"id":"done"/,
    );
    const [logged] = await redis.client.xrange(keys.userLog('u1'), '-', '+');
    expect(logged?.[1][1]).toBe(ended.forwards[1]?.frame);
    expect((await readRun(redis.client, keys, 'u1', 'r1'))?.status).toBe('ended');
    const late = await persist([appendEntry('2-1', 'b', 'u1', 'r1', 'main', 'y')]);
    expect(late.forwards[0]?.chunk).toBe(3);
    const run = await readRun(redis.client, keys, 'u1', 'r1');
    expect(run?.status).toBe('ended');
    expect(run?.streams[0]?.text).toBe('xy');
    expect(run?.streams[0]?.chunks).toBe(3);
    // Not live any more: a new connection gets no snapshot of it.
    expect(await redis.client.smembers(keys.userLiveRuns('u1'))).toEqual([]);
    expect(await redis.client.zscore(keys.shardRunning(keys.shardOf('u1')), 'u1|r1')).toBeNull();
  });

  it('keeps the first RUN_MAX_BYTES of a stream on a character boundary and says truncated', async () => {
    const settings = { ...persistSettings, runs: { ...persistSettings.runs, maxBytes: 10 } };
    const { keys, persist } = await sequencer('truncate', 'u1', settings);
    // 'aaaaaaaa' is 8 bytes; 'é' is 2 bytes and would end at 10; '€' (3 bytes) would not fit.
    await persist([
      appendEntry('1-1', 'a', 'u1', 'r1', 'main', 'aaaaaaaa'),
      appendEntry('1-2', 'b', 'u1', 'r1', 'main', 'é€'),
    ]);
    const run = await readRun(redis.client, keys, 'u1', 'r1');
    expect(run?.streams).toEqual([{ name: 'main', chunks: 2, truncated: true, text: 'aaaaaaaaé' }]);
    const more = await persist([appendEntry('2-1', 'c', 'u1', 'r1', 'main', 'zz')]);
    expect(more.forwards[0]?.chunk).toBe(3);
    expect((await readRun(redis.client, keys, 'u1', 'r1'))?.streams[0]).toEqual({
      name: 'main',
      chunks: 3,
      truncated: true,
      text: 'aaaaaaaaé',
    });
  });

  it('keeps at most RUN_MAX_PER_USER runs, evicting the least recently active with its texts', async () => {
    const settings = { ...persistSettings, runs: { ...persistSettings.runs, maxPerUser: 2 } };
    const { keys, persist } = await sequencer('evict', 'u1', settings);
    for (const runId of ['r1', 'r2', 'r3']) {
      await persist([appendEntry(`${runId}-1`, `${runId}-a`, 'u1', runId, 'main', runId)]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await readRun(redis.client, keys, 'u1', 'r1')).toBeUndefined();
    expect(await redis.client.exists(keys.runText('u1', 'r1', 'main'))).toBe(0);
    expect((await readRun(redis.client, keys, 'u1', 'r2'))?.streams[0]?.text).toBe('r2');
    expect((await readRun(redis.client, keys, 'u1', 'r3'))?.streams[0]?.text).toBe('r3');
    expect(await redis.client.zrange(keys.userRuns('u1'), 0, -1)).toEqual(['r2', 'r3']);
  });

  it('sets the TTL of every run key to RUN_TTL_MS (plus at most RUN_TTL_MS / 16)', async () => {
    const { keys, persist } = await sequencer('ttl', 'u1');
    await persist([appendEntry('1-1', 'a', 'u1', 'r1', 'main', 'x')]);
    const ttl = persistSettings.runs.ttlMs;
    for (const key of [
      keys.run('u1', 'r1'),
      keys.runText('u1', 'r1', 'main'),
      keys.userRuns('u1'),
      keys.userLiveRuns('u1'),
    ]) {
      const left = await redis.client.pttl(key);
      expect(left, key).toBeGreaterThan(ttl - 1000);
      expect(left, key).toBeLessThanOrEqual(ttl + ttl / 16);
    }
  });

  it('remembers an append’s id as long as its run, a critical event’s for DEDUPE_WINDOW_MS', async () => {
    const settings = { ...persistSettings, dedupeWindowMs: 86_400_000 };
    const { keys, shard, persist } = await sequencer('dedupe-ttl', 'u1', settings);
    await persist([
      appendEntry('1-1', 'tok', 'u1', 'r1', 'main', 'x'),
      runEventEntry('1-2', 'start', 'u1', 'r1'),
    ]);
    const ttlOf = (eventId: string) => redis.client.pttl(`${keys.shardBase(shard)}d:u1:${eventId}`);
    const runTtl = settings.runs.ttlMs;
    expect(await ttlOf('tok')).toBeLessThanOrEqual(runTtl + runTtl / 16);
    expect(await ttlOf('tok')).toBeGreaterThan(runTtl - 1000);
    expect(await ttlOf('start')).toBeGreaterThan(86_400_000 - 1000);
  });

  it('starts a stream text afresh at its first chunk, over a text left by an expired run', async () => {
    const { keys, persist } = await sequencer('leftover', 'u1');
    // A text started between TTL refreshes outlives its run's hash by up to a second.
    await redis.client.set(keys.runText('u1', 'r1', 'main'), 'stale ', 'PX', 5000);
    await persist([appendEntry('1-1', 'a', 'u1', 'r1', 'main', 'fresh')]);
    expect((await readRun(redis.client, keys, 'u1', 'r1'))?.streams).toEqual([
      { name: 'main', chunks: 1, truncated: false, text: 'fresh' },
    ]);
    expect(await redis.client.pttl(keys.runText('u1', 'r1', 'main'))).toBeGreaterThan(5000);
  });

  it('applies a run_stalled once with a seq, and drops one overtaken by an event of the run', async () => {
    const settings = { ...persistSettings, runs: { ...persistSettings.runs, stallMs: 1000 } };
    const { keys, shard, persist } = await sequencer('stall', 'u1', settings);
    await persist([runEventEntry('1-1', 'start', 'u1', 'r1')]);
    const updated = Number(await redis.client.hget(keys.run('u1', 'r1'), 'updated'));
    expect(await redis.client.zscore(keys.shardRunning(shard), 'u1|r1')).toBe(String(updated));

    const stall = (entryId: string, n: number, after: number): ShardEntry => ({
      ...runEventEntry(entryId, `run_stalled:r1:${n}`, 'u1', 'r1'),
      runKind: 's',
      text: String(after),
    });
    const stalled = await persist([stall('2-1', 1, updated)]);
    expect(stalled.forwards.map((f) => f.seq)).toEqual([2]);
    expect((await readRun(redis.client, keys, 'u1', 'r1'))?.status).toBe('stalled');
    expect(await redis.client.zscore(keys.shardRunning(shard), 'u1|r1')).toBeNull();

    // An event makes it running again; a stall detected on the old time is moot.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await persist([appendEntry('3-1', 'a', 'u1', 'r1', 'main', 'x')]);
    await redis.client.zrem(keys.shardRunning(shard), 'u1|r1');
    const moot = await persist([stall('4-1', 2, updated)]);
    expect(moot.forwards).toEqual([]);
    expect(moot.duplicates).toBe(1);
    expect((await readRun(redis.client, keys, 'u1', 'r1'))?.status).toBe('running');
    // The job took the run out of its index when it sent the moot one: back in.
    expect(await redis.client.zscore(keys.shardRunning(shard), 'u1|r1')).not.toBeNull();
    // The moot one wrote no dedupe key: the next real stall can use its id.
    const next = Number(await redis.client.hget(keys.run('u1', 'r1'), 'updated'));
    const again = await persist([stall('5-1', 2, next)]);
    expect(again.forwards.map((f) => f.seq)).toEqual([3]);
  });
});
