import { type KeyLayout, type RedisClient, createKeyLayout } from '@agentwire/redis';
import { type TestRedis, scriptRuns, startTestRedis, uniquePrefix } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPositions } from '../src/ack-positions.js';

let redis: TestRedis;
let client: RedisClient;
const loops = new AbortController();

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.createClient();
});

afterAll(async () => {
  loops.abort();
  await client.quit();
  await redis.stop();
});

/** Gives each user a history whose newest seq is `seq` (and an acked position when given). */
async function createHistories(
  keys: KeyLayout,
  users: readonly string[],
  seq: number,
  acked?: number,
): Promise<void> {
  // One command each: a cluster pipeline must stay on one node.
  await Promise.all(
    users.map((user) =>
      acked === undefined
        ? client.hset(keys.userMeta(user), 'epoch', 'e', 'seq', seq)
        : client.hset(keys.userMeta(user), 'epoch', 'e', 'seq', seq, 'acked', acked),
    ),
  );
}

async function ackedOf(keys: KeyLayout, users: readonly string[]): Promise<Array<string | null>> {
  return Promise.all(users.map((user) => client.hget(keys.userMeta(user), 'acked')));
}

/** Positions only the test's explicit flushes write (the interval never passes). */
const flushedByHand = (keys: KeyLayout): AckPositions =>
  new AckPositions({ client, keys, signal: loops.signal, flushIntervalMs: 60_000 });

const range = (name: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${name}${i}`);

describe('AckPositions', () => {
  it('writes only the highest position per user, once per flush, and never past the newest seq', async () => {
    const keys = createKeyLayout(uniquePrefix('acks'), 16);
    await client.hset(keys.userMeta('u1'), 'epoch', 'e', 'seq', 10);
    await client.hset(keys.userMeta('u2'), 'epoch', 'e', 'seq', 3);
    const positions = flushedByHand(keys);

    positions.record('u1', 4);
    positions.record('u1', 7);
    positions.record('u1', 5);
    positions.record('u2', 9); // above the user's newest seq: the script refuses it
    positions.record('nobody', 1); // no history: nothing is created
    expect(await client.hget(keys.userMeta('u1'), 'acked')).toBeNull();
    await positions.flush();
    expect(await client.hget(keys.userMeta('u1'), 'acked')).toBe('7');
    expect(await client.hget(keys.userMeta('u2'), 'acked')).toBeNull();
    expect(await client.exists(keys.userMeta('nobody'))).toBe(0);

    // A lower position later never moves it back.
    positions.record('u1', 2);
    await positions.flush();
    expect(await client.hget(keys.userMeta('u1'), 'acked')).toBe('7');
  });

  it('flushes by itself on its interval', async () => {
    const keys = createKeyLayout(uniquePrefix('acktick'), 16);
    await client.hset(keys.userMeta('u3'), 'epoch', 'e', 'seq', 5);
    const positions = new AckPositions({ client, keys, signal: loops.signal, flushIntervalMs: 50 });
    positions.record('u3', 5);
    const deadline = Date.now() + 2000;
    while ((await client.hget(keys.userMeta('u3'), 'acked')) !== '5' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await client.hget(keys.userMeta('u3'), 'acked')).toBe('5');
  });

  it('writes every user of a multi-user flush in one script call per shard, by the same rules', async () => {
    const keys = createKeyLayout(uniquePrefix('ackmany'), 16);
    const moving = range('m', 300);
    const stale = range('s', 20); // acked 8 already: a lower ack must not lower it
    const ahead = range('a', 20); // newest seq 10: an ack of 11 must not pass it
    const equal = range('q', 20); // acked 6 already: the same position again is no move
    await createHistories(keys, moving, 10);
    await createHistories(keys, stale, 10, 8);
    await createHistories(keys, ahead, 10);
    await createHistories(keys, equal, 10, 6);
    const positions = flushedByHand(keys);
    moving.forEach((user, i) => positions.record(user, 1 + (i % 10)));
    for (const user of stale) positions.record(user, 3);
    for (const user of ahead) positions.record(user, 11);
    for (const user of equal) positions.record(user, 6);
    for (const user of range('none', 20)) positions.record(user, 1);
    const shards = new Set(
      [...moving, ...stale, ...ahead, ...equal, ...range('none', 20)].map(keys.shardOf),
    );

    const runsBefore = await scriptRuns(client);
    expect(await positions.flush()).toEqual({ moved: moving.length, failed: 0 });
    expect((await scriptRuns(client)) - runsBefore).toBe(shards.size);

    expect(await ackedOf(keys, moving)).toEqual(moving.map((_, i) => String(1 + (i % 10))));
    expect(await ackedOf(keys, stale)).toEqual(stale.map(() => '8'));
    expect(await ackedOf(keys, ahead)).toEqual(ahead.map(() => null));
    expect(await ackedOf(keys, equal)).toEqual(equal.map(() => '6'));
    expect(
      await Promise.all(range('none', 20).map((user) => client.exists(keys.userMeta(user)))),
    ).toEqual(range('none', 20).map(() => 0));
  });

  it('splits a shard of more than 500 users into several calls, every user written', async () => {
    const keys = createKeyLayout(uniquePrefix('ackbig'), 1);
    const users = range('b', 1100);
    await createHistories(keys, users, 5);
    const positions = flushedByHand(keys);
    for (const user of users) positions.record(user, 4);

    const runsBefore = await scriptRuns(client);
    expect(await positions.flush()).toEqual({ moved: users.length, failed: 0 });
    expect((await scriptRuns(client)) - runsBefore).toBe(3);
    expect(await ackedOf(keys, users)).toEqual(users.map(() => '4'));
  });

  it("a failed call loses only its own users, never the other shards' writes", async () => {
    const keys = createKeyLayout(uniquePrefix('ackfail'), 2);
    const users = range('f', 40);
    const broken = users.filter((user) => keys.shardOf(user) === 0);
    const healthy = users.filter((user) => keys.shardOf(user) === 1);
    expect(broken.length).toBeGreaterThan(0);
    expect(healthy.length).toBeGreaterThan(0);
    await createHistories(keys, users, 10);
    // Not a hash: the script's HMGET on it fails, and with it shard 0's call.
    await client.del(keys.userMeta(broken[0] as string));
    await client.set(keys.userMeta(broken[0] as string), 'x');
    const positions = flushedByHand(keys);
    for (const user of users) positions.record(user, 9);

    expect(await positions.flush()).toEqual({ moved: healthy.length, failed: broken.length });
    expect(await ackedOf(keys, healthy)).toEqual(healthy.map(() => '9'));
  });
});
