import { type RedisClient, createKeyLayout } from '@agentwire/redis';
import { type TestRedis, startTestRedis, uniquePrefix } from '@agentwire/testing';
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

describe('AckPositions', () => {
  it('writes only the highest position per user, once per flush, and never past the newest seq', async () => {
    const keys = createKeyLayout(uniquePrefix('acks'), 16);
    await client.hset(keys.userMeta('u1'), 'epoch', 'e', 'seq', 10);
    await client.hset(keys.userMeta('u2'), 'epoch', 'e', 'seq', 3);
    // A long interval: only the explicit flushes below write.
    const positions = new AckPositions({
      client,
      keys,
      signal: loops.signal,
      flushIntervalMs: 60_000,
    });

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
});
