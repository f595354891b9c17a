import {
  appendToIngest,
  createKeyLayout,
  createRedisClient,
  IngestCallLimits,
  type IngestEntry,
  type KeyLayout,
  type RedisClient,
  waitForReady,
} from '@agentwire/redis';
import { redisTargetOf, startTestRedis, uniquePrefix, type TestRedis } from '@agentwire/testing';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let redis: TestRedis;
/** The edge's own kind of client: auto-pipelined, no offline queue. */
let client: RedisClient;
let admin: Redis | Cluster;

beforeAll(async () => {
  redis = await startTestRedis();
  client = createRedisClient(redisTargetOf(redis), {
    name: 'ingest-stream-test',
    offlineQueue: false,
  });
  admin = redis.createClient();
  await Promise.all([waitForReady(client, 10_000), waitForReady(admin, 10_000)]);
});

afterAll(async () => {
  client?.disconnect();
  admin?.disconnect();
  await redis?.stop();
});

/**
 * The fields of an ingest entry as XADD per event stored them before the
 * append script (the buffer's parseShardEntries reads this layout).
 */
function oldLayout(event: IngestEntry): string[] {
  const fields = [
    'i',
    event.id,
    'u',
    event.userId,
    'c',
    event.critical ? '1' : '0',
    'b',
    event.body,
  ];
  const run = event.run;
  if (run === undefined) return fields;
  fields.push('r', run.runId);
  if (run.kind === 'end') fields.push('k', 'e');
  if (run.kind === 'append') fields.push('k', 'a', 'n', run.stream, 'a', run.text);
  return fields;
}

/** Every entry of every shard's ingest stream, as [stream, fields] in stream order. */
async function readShards(keys: KeyLayout): Promise<Map<string, string[][]>> {
  const streams = new Map<string, string[][]>();
  for (let shard = 0; shard < keys.shards; shard++) {
    const entries = await admin.xrange(keys.ingest(shard), '-', '+');
    if (entries.length > 0) {
      streams.set(
        keys.ingest(shard),
        entries.map(([, fields]) => fields),
      );
    }
  }
  return streams;
}

/** Each user's events in the order given, as the stored field lists. */
function byUser(events: readonly IngestEntry[]): Map<string, string[][]> {
  const users = new Map<string, string[][]>();
  for (const event of events) {
    const list = users.get(event.userId) ?? [];
    list.push(oldLayout(event));
    users.set(event.userId, list);
  }
  return users;
}

/** The entries stored for `userId`, in stream order (all of a user's are in the user's shard). */
function storedOf(streams: Map<string, string[][]>, keys: KeyLayout, userId: string): string[][] {
  const stream = streams.get(keys.ingest(keys.shardOf(userId))) ?? [];
  return stream.filter((fields) => fields[3] === userId);
}

/** EVAL calls (the NOSCRIPT fallback) the servers ran since their stats were reset. */
async function evalCalls(primaries: Redis[]): Promise<number> {
  let calls = 0;
  for (const node of primaries) {
    const stats = await node.info('commandstats');
    calls += Number(/^cmdstat_eval:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
  }
  return calls;
}

function mixedEvent(userId: string, n: number): IngestEntry {
  const id = `${userId}-e${n}`;
  const body = `"id":"${id}","critical":false,"name":"step","ts":1,"data":"ü😀\\n${n}"}`;
  switch (n % 4) {
    case 0:
      return { id, userId, critical: n % 8 === 0, body };
    case 1:
      return { id, userId, critical: false, body, run: { runId: `run-${userId}`, kind: 'event' } };
    case 2: {
      const text = n % 8 === 2 ? '' : `tök ${n}\n`;
      const run = { runId: `run-${userId}`, kind: 'append' as const, stream: 'main', text };
      return { id, userId, critical: false, body, run };
    }
    default:
      return { id, userId, critical: true, body, run: { runId: `run-${userId}`, kind: 'end' } };
  }
}

describe('appendToIngest', () => {
  it('stores a multi-shard batch of several users in each user order, in the XADD field layout', async () => {
    const keys = createKeyLayout(uniquePrefix('ingest-order'), 16);
    const users = Array.from({ length: 24 }, (_, n) => `user-${n}`);
    // Users interleaved, so every shard's part mixes several users.
    const events = Array.from({ length: 480 }, (_, n) =>
      mixedEvent(users[(n * 5) % users.length] as string, n),
    );
    await appendToIngest(client, keys, events);
    const streams = await readShards(keys);
    expect(streams.size).toBe(new Set(users.map((user) => keys.shardOf(user))).size);
    for (const [user, expected] of byUser(events)) {
      expect(storedOf(streams, keys, user)).toEqual(expected);
    }
    // Nothing else was stored: every shard holds exactly its users' entries.
    const stored = [...streams.values()].reduce((sum, entries) => sum + entries.length, 0);
    expect(stored).toBe(events.length);
  });

  it('keeps order across the calls of a shard part over the bounds, scripts flushed first', async () => {
    const keys = createKeyLayout(uniquePrefix('ingest-split'), 16);
    // A server that has never seen the script (a restart, a new node): the
    // first call takes the EVAL fallback and the later calls must not overtake it.
    const primaries = 'nodes' in admin ? admin.nodes('master') : [admin];
    await Promise.all(primaries.map((node) => node.script('FLUSH')));
    await Promise.all(primaries.map((node) => node.config('RESETSTAT')));
    const many = Array.from({ length: 2 * IngestCallLimits.entries + 500 }, (_, n) =>
      mixedEvent('heavy', n),
    );
    const large = 'x'.repeat(IngestCallLimits.chars / 3);
    const big = Array.from({ length: 8 }, (_, n) => ({
      ...mixedEvent('large', n),
      body: `${large}${n}`,
    }));
    const light = Array.from({ length: 30 }, (_, n) => mixedEvent('light', n));
    const events = [...many.slice(0, 700), ...big, ...light, ...many.slice(700)];
    await appendToIngest(client, keys, events);
    const streams = await readShards(keys);
    for (const [user, expected] of byUser(events)) {
      expect(storedOf(streams, keys, user)).toEqual(expected);
    }
    // A sequence's later calls wait for the earlier one: only the first call
    // of each sequence (a shard on a cluster, the whole request on a single
    // Redis) met the flushed cache. Pipelined calls would all have met it
    // and been resent as EVAL, where a script loaded in between by another
    // client lets a later call overtake.
    const shards = new Set(['heavy', 'large', 'light'].map((user) => keys.shardOf(user)));
    expect(await evalCalls(primaries)).toBe('nodes' in client ? shards.size : 1);
  });

  it('rejects when a call fails; the retry a 503 asks for stores every event', async () => {
    const keys = createKeyLayout(uniquePrefix('ingest-fail'), 16);
    const broken = 'broken-user';
    const healthy = Array.from({ length: 40 }, (_, n) => `ok-${n}`).filter(
      (user) => keys.shardOf(user) !== keys.shardOf(broken),
    );
    // Not a stream: XADD to it fails with WRONGTYPE.
    const brokenKey = keys.ingest(keys.shardOf(broken));
    await admin.set(brokenKey, 'x');
    const events = [...healthy.map((user, n) => mixedEvent(user, n)), mixedEvent(broken, 0)];
    await expect(appendToIngest(client, keys, events)).rejects.toThrow(/WRONGTYPE/);
    if ('nodes' in client) {
      // A call per shard: the other shards' calls went through.
      for (const user of healthy) {
        const entries = await admin.xrange(keys.ingest(keys.shardOf(user)), '-', '+');
        expect(entries.filter(([, fields]) => fields[3] === user)).toHaveLength(1);
      }
    }
    await admin.del(brokenKey);
    await appendToIngest(client, keys, events);
    for (const user of [...healthy, broken]) {
      const entries = await admin.xrange(keys.ingest(keys.shardOf(user)), '-', '+');
      // Stored once or twice: the sequencer dedupes a repeat by event id.
      const mine = entries.filter(([, fields]) => fields[3] === user);
      expect(mine.length).toBeGreaterThanOrEqual(1);
      expect(mine.length).toBeLessThanOrEqual(2);
    }
  });
});
