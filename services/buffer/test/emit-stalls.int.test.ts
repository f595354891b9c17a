import { createKeyLayout, type KeyLayout, Scripts } from '@agentwire/redis';
import { uniquePrefix } from '@agentwire/testing';
import { describe, expect, it } from 'vitest';
import { emitStalls } from '../src/jobs/emit-stalls.js';
import { useSharedTestRedis } from './support/shared-test-redis.js';

const STALL_MS = 10_000;
const SHARDS = 4;

const redis = useSharedTestRedis();

interface RunSeed {
  status: 'running' | 'ended' | 'stalled';
  updated: number;
  stalls?: number;
  /** Score in the running set when it differs from `updated` (a lagging score). */
  score?: number;
}

/** A run as the sequencer leaves it (runs-plan.md): the run hash and its `running` member. */
async function seedRun(
  keys: KeyLayout,
  userId: string,
  runId: string,
  run: RunSeed,
): Promise<void> {
  await redis.client.hset(keys.run(userId, runId), {
    status: run.status,
    started: run.updated - 1000,
    updated: run.updated,
    stalls: run.stalls ?? 0,
  });
  await redis.client.zadd(
    keys.shardRunning(keys.shardOf(userId)),
    run.score ?? run.updated,
    `${userId}|${runId}`,
  );
}

/** The entries of a user's shard ingest stream, each as a field map. */
async function ingestEntries(keys: KeyLayout, userId: string): Promise<Record<string, string>[]> {
  const entries = await redis.client.xrange(keys.ingest(keys.shardOf(userId)), '-', '+');
  return entries.map(([, fields]) => {
    const map: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2)
      map[fields[i] as string] = fields[i + 1] as string;
    return map;
  });
}

async function isRunning(keys: KeyLayout, userId: string, runId: string): Promise<boolean> {
  const score = await redis.client.zscore(
    keys.shardRunning(keys.shardOf(userId)),
    `${userId}|${runId}`,
  );
  return score !== null;
}

/** Users that land on `count` different shards, so a test covers every shard of the call. */
function usersOnEveryShard(keys: KeyLayout, label: string): string[] {
  const byShard = new Map<number, string>();
  for (let i = 0; byShard.size < keys.shards; i++) {
    const userId = `${label}${i}`;
    if (!byShard.has(keys.shardOf(userId))) byShard.set(keys.shardOf(userId), userId);
  }
  return [...byShard.values()];
}

describe('emit-stalls-1.lua through emitStalls', () => {
  it('gives a silent running run exactly one run_stalled ingest entry, with the plan’s fields', async () => {
    const keys = createKeyLayout(uniquePrefix('stall'), SHARDS);
    const now = Date.now();
    const updated = now - STALL_MS - 1;
    await seedRun(keys, 'u1', 'r7', { status: 'running', updated });

    expect(await emitStalls(redis.client, keys, STALL_MS, now)).toBe(1);
    const entries = await ingestEntries(keys, 'u1');
    expect(entries).toEqual([
      {
        i: 'run_stalled:r7:1',
        u: 'u1',
        c: '1',
        b: `"id":"run_stalled:r7:1","critical":true,"name":"run_stalled","runId":"r7","ts":${now},"data":{"lastEventTs":${updated}}}`,
        r: 'r7',
        k: 's',
        l: String(updated),
      },
    ]);
    // The body is an event frame without its opening brace, type and seq.
    expect(JSON.parse(`{${entries[0]?.b ?? ''}`)).toEqual({
      id: 'run_stalled:r7:1',
      critical: true,
      name: 'run_stalled',
      runId: 'r7',
      ts: now,
      data: { lastEventTs: updated },
    });
    // Out of the running set in the same step: the next call emits nothing.
    expect(await isRunning(keys, 'u1', 'r7')).toBe(false);
    expect(await emitStalls(redis.client, keys, STALL_MS, now + 1000)).toBe(0);
    expect(await ingestEntries(keys, 'u1')).toHaveLength(1);
    // The script leaves the run hash to the sequencer.
    expect(await redis.client.hget(keys.run('u1', 'r7'), 'status')).toBe('running');
  });

  it('numbers the stall after the run’s earlier ones', async () => {
    const keys = createKeyLayout(uniquePrefix('stall'), SHARDS);
    const now = Date.now();
    await seedRun(keys, 'u1', 'r7', { status: 'running', updated: now - STALL_MS, stalls: 2 });

    expect(await emitStalls(redis.client, keys, STALL_MS, now)).toBe(1);
    const [entry] = await ingestEntries(keys, 'u1');
    expect(entry?.i).toBe('run_stalled:r7:3');
    expect(JSON.parse(`{${entry?.b ?? ''}`)).toMatchObject({ id: 'run_stalled:r7:3' });
  });

  it('emits nothing for a run that ended or stalled, or had an event within RUN_STALL_MS', async () => {
    const keys = createKeyLayout(uniquePrefix('stall'), SHARDS);
    const now = Date.now();
    const old = now - STALL_MS - 5000;
    await seedRun(keys, 'u1', 'ended', { status: 'ended', updated: old });
    await seedRun(keys, 'u1', 'stalled', { status: 'stalled', updated: old });
    await seedRun(keys, 'u1', 'recent', { status: 'running', updated: now - STALL_MS + 1 });

    expect(await emitStalls(redis.client, keys, STALL_MS, now)).toBe(0);
    expect(await ingestEntries(keys, 'u1')).toEqual([]);
    // Runs that are not running leave the set; the recent one stays.
    expect(await isRunning(keys, 'u1', 'ended')).toBe(false);
    expect(await isRunning(keys, 'u1', 'stalled')).toBe(false);
    expect(await isRunning(keys, 'u1', 'recent')).toBe(true);
  });

  it('moves a member whose score lags its run’s last event up to it instead of emitting', async () => {
    const keys = createKeyLayout(uniquePrefix('stall'), SHARDS);
    const now = Date.now();
    const updated = now - 100;
    await seedRun(keys, 'u1', 'r7', { status: 'running', updated, score: now - STALL_MS - 1 });

    expect(await emitStalls(redis.client, keys, STALL_MS, now)).toBe(0);
    expect(await ingestEntries(keys, 'u1')).toEqual([]);
    expect(await redis.client.zscore(keys.shardRunning(keys.shardOf('u1')), 'u1|r7')).toBe(
      String(updated),
    );
    // Once that last event is old enough, the stall is emitted.
    expect(await emitStalls(redis.client, keys, STALL_MS, updated + STALL_MS)).toBe(1);
  });

  it('drops members whose run hash is gone (expired)', async () => {
    const keys = createKeyLayout(uniquePrefix('stall'), SHARDS);
    const now = Date.now();
    const running = keys.shardRunning(keys.shardOf('u1'));
    await redis.client.zadd(running, now - STALL_MS - 1, 'u1|gone');
    await redis.client.zadd(running, now - STALL_MS - 1, 'malformed-without-bar');

    expect(await emitStalls(redis.client, keys, STALL_MS, now)).toBe(0);
    expect(await redis.client.zcard(running)).toBe(0);
    expect(await ingestEntries(keys, 'u1')).toEqual([]);
  });

  it('JSON-escapes the run id, which may hold quotes, bars and any character', async () => {
    const keys = createKeyLayout(uniquePrefix('stall'), SHARDS);
    const now = Date.now();
    const runId = 'r|"x"\\ é\n✓|2';
    await seedRun(keys, 'u1', runId, { status: 'running', updated: now - STALL_MS });

    expect(await emitStalls(redis.client, keys, STALL_MS, now)).toBe(1);
    const [entry] = await ingestEntries(keys, 'u1');
    expect(entry).toMatchObject({ u: 'u1', r: runId, i: `run_stalled:${runId}:1` });
    expect(JSON.parse(`{${entry?.b ?? ''}`)).toMatchObject({
      id: `run_stalled:${runId}:1`,
      runId,
    });
  });

  it('covers every shard, each through its own call (its own slot on a cluster)', async () => {
    const keys = createKeyLayout(uniquePrefix('stall'), SHARDS);
    const now = Date.now();
    const users = usersOnEveryShard(keys, 'spread');
    for (const userId of users) {
      await seedRun(keys, userId, 'r1', { status: 'running', updated: now - STALL_MS });
    }

    expect(await emitStalls(redis.client, keys, STALL_MS, now)).toBe(SHARDS);
    for (const userId of users) {
      expect((await ingestEntries(keys, userId)).map((entry) => [entry.u, entry.i])).toEqual([
        [userId, 'run_stalled:r1:1'],
      ]);
    }
  });

  it('goes through more stalled runs than one call looks at', async () => {
    const keys = createKeyLayout(uniquePrefix('stall'), SHARDS);
    const now = Date.now();
    const userId = 'many';
    const runs = 1234;
    const pipeline = redis.client.pipeline();
    for (let i = 0; i < runs; i++) {
      pipeline.hset(keys.run(userId, `r${i}`), { status: 'running', updated: now - STALL_MS });
      pipeline.zadd(keys.shardRunning(keys.shardOf(userId)), now - STALL_MS, `${userId}|r${i}`);
    }
    await pipeline.exec();

    expect(await emitStalls(redis.client, keys, STALL_MS, now)).toBe(runs);
    expect(await redis.client.xlen(keys.ingest(keys.shardOf(userId)))).toBe(runs);
    expect(await redis.client.zcard(keys.shardRunning(keys.shardOf(userId)))).toBe(0);
  });

  it('looks at no more than the given count per script call and says so', async () => {
    const keys = createKeyLayout(uniquePrefix('stall'), SHARDS);
    const now = Date.now();
    for (let i = 0; i < 5; i++) {
      await seedRun(keys, 'u1', `r${i}`, { status: 'running', updated: now - STALL_MS - i });
    }
    const shard = keys.shardOf('u1');
    const call = () =>
      Scripts.emitStalls.run(
        redis.client,
        [keys.shardRunning(shard)],
        [keys.shardBase(shard), now, now - STALL_MS, 3, 'run_stalled'],
      );

    // The oldest first: [emitted, examined].
    expect(await call()).toEqual([3, 3]);
    expect((await ingestEntries(keys, 'u1')).map((entry) => entry.r)).toEqual(['r4', 'r3', 'r2']);
    expect(await call()).toEqual([2, 2]);
    expect(await call()).toEqual([0, 0]);
  });
});
