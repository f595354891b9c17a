import { createKeyLayout, type KeyLayout } from '@agentwire/redis';
import {
  sleep,
  startStack,
  startTestRedis,
  waitUntil,
  type Stack,
  type TestRedis,
} from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendEvent as append,
  connectUser,
  getRun,
  ingestOk,
  uniqueUser,
} from './support/edge-test-kit.js';

/**
 * The bounds of protocol.md section 9, "Snapshots": RUN_MAX_BYTES per
 * stream (truncated, said in snapshots), RUN_MAX_PER_USER runs per user
 * (the oldest go), RUN_TTL_MS after a run's last event.
 */
const RUN_MAX_BYTES = 64;
const RUN_MAX_PER_USER = 3;
const RUN_TTL_MS = 1500;
/** Above RUN_TTL_MS plus the up to 1 s of TTL refresh: the stall job finds the expired runs gone. */
const RUN_STALL_MS = 4000;

let redis: TestRedis;
/** Small RUN_MAX_BYTES and RUN_MAX_PER_USER. */
let bounded: Stack;
/** Small RUN_TTL_MS. */
let expiring: Stack;

beforeAll(async () => {
  redis = await startTestRedis();
  [bounded, expiring] = await Promise.all([
    startStack({
      redis,
      env: {
        RUN_MAX_BYTES: String(RUN_MAX_BYTES),
        RUN_MAX_PER_USER: String(RUN_MAX_PER_USER),
        LOG_LEVEL: 'warn',
      },
    }),
    startStack({
      redis,
      env: {
        RUN_TTL_MS: String(RUN_TTL_MS),
        RUN_STALL_MS: String(RUN_STALL_MS),
        LOG_LEVEL: 'warn',
      },
    }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([bounded?.stop(), expiring?.stop()]);
  await redis?.stop();
});

const keysOf = (stack: Stack): KeyLayout =>
  createKeyLayout(stack.env.KEY_PREFIX as string, Number(stack.env.SHARDS));

/** How many of `keys` exist. */
async function existing(stack: Stack, keys: string[]): Promise<number> {
  const client = stack.redis.createClient();
  try {
    let count = 0;
    for (const key of keys) count += await client.exists(key);
    return count;
  } finally {
    client.disconnect();
  }
}

describe('RUN_MAX_BYTES', () => {
  it('keeps the first RUN_MAX_BYTES of a stream, cut between characters, and says truncated in every snapshot; appends still arrive live', async () => {
    const user = uniqueUser('trunc');
    const { client } = await connectUser(bounded, user);
    const parts = ['a'.repeat(61), 'é👍', 'zz'];
    await ingestOk(bounded, [
      { id: 'start', userId: user, name: 'agent_started', runId: 'r1' },
      ...parts.map((text, i) => append(user, 'r1', `t${i}`, text)),
      append(user, 'r1', 'n1', 'short', 'notes'),
    ]);
    await client.waitFor((frame) => frame.stream === 'notes');
    expect(
      client
        .events()
        .filter((frame) => frame.stream === 'answer')
        .map((frame) => [frame.chunk, frame.append]),
    ).toEqual(parts.map((text, i) => [i + 1, text]));

    // 61 + 2 bytes: the emoji's 4 bytes would pass 64, so the text ends after the é.
    const kept = `${'a'.repeat(61)}é`;
    const streams = {
      answer: { text: kept, chunks: 3, truncated: true },
      notes: { text: 'short', chunks: 1, truncated: false },
    };
    client.send({ type: 'sync', runId: 'r1' });
    const synced = await client.waitFor('snapshot');
    expect(synced.streams).toEqual(streams);
    const late = await connectUser(bounded, user, {}, 0);
    expect((await late.client.waitFor('snapshot')).streams).toEqual(streams);
    expect((await getRun(bounded, user, 'r1')).body.streams).toEqual(streams);
    await Promise.all([client.close(), late.client.close()]);
  });
});

describe('RUN_MAX_PER_USER', () => {
  it('evicts the run with the oldest last event when one more starts, with its keys', async () => {
    const user = uniqueUser('evict');
    for (const runId of ['r1', 'r2', 'r3']) {
      await ingestOk(bounded, [append(user, runId, `${runId}-1`, runId)]);
      await waitUntil(async () => (await getRun(bounded, user, runId)).status === 200, 5000);
    }
    // r1's last event becomes the newest (scores are refreshed at most once a second).
    await sleep(1100);
    await ingestOk(bounded, [append(user, 'r1', 'r1-2', '!')]);
    await waitUntil(
      async () =>
        ((await getRun(bounded, user, 'r1')).body.streams as Record<string, { chunks: number }>)
          .answer?.chunks === 2,
      5000,
    );
    await ingestOk(bounded, [append(user, 'r4', 'r4-1', 'r4')]);
    await waitUntil(async () => (await getRun(bounded, user, 'r4')).status === 200, 5000);

    expect((await getRun(bounded, user, 'r2')).status).toBe(404);
    for (const runId of ['r1', 'r3', 'r4']) {
      expect((await getRun(bounded, user, runId)).status, runId).toBe(200);
    }
    const keys = keysOf(bounded);
    expect(
      await existing(bounded, [keys.run(user, 'r2'), keys.runText(user, 'r2', 'answer')]),
    ).toBe(0);
    const client = bounded.redis.createClient();
    try {
      expect((await client.zrange(keys.userRuns(user), 0, -1)).sort()).toEqual(['r1', 'r3', 'r4']);
    } finally {
      client.disconnect();
    }
    // A client connecting now gets snapshots of the retained runs only.
    const { client: ws } = await connectUser(bounded, user);
    await waitUntil(() => ws.frames.filter((f) => f.type === 'snapshot').length >= 3, 5000);
    expect(
      ws.frames
        .filter((f) => f.type === 'snapshot')
        .map((f) => f.runId)
        .sort(),
    ).toEqual(['r1', 'r3', 'r4']);
    await ws.close();
  });
});

describe('RUN_TTL_MS', () => {
  it('drops a run RUN_TTL_MS after its last event: GET 404, no snapshot, its keys gone', async () => {
    const user = uniqueUser('ttl');
    // The run's last event is sequenced after this: its TTL counts from later.
    const sentAt = Date.now();
    await ingestOk(expiring, [
      { id: 'start', userId: user, name: 'agent_started', runId: 'r1' },
      append(user, 'r1', 'a1', 'Hello'),
      append(user, 'r1', 'b1', 'wörld', 'notes'),
    ]);
    await waitUntil(async () => (await getRun(expiring, user, 'r1')).status === 200, 5000);
    await sleep(Math.max(0, sentAt + RUN_TTL_MS / 2 - Date.now()));
    expect((await getRun(expiring, user, 'r1')).status).toBe(200);

    // Gone within the TTL plus its refresh interval (1 s) and some slack.
    await waitUntil(
      async () => (await getRun(expiring, user, 'r1')).status === 404,
      RUN_TTL_MS + 4000,
      50,
    );
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(RUN_TTL_MS);
    const keys = keysOf(expiring);
    expect(
      await existing(expiring, [
        keys.run(user, 'r1'),
        keys.runText(user, 'r1', 'answer'),
        keys.runText(user, 'r1', 'notes'),
        keys.userRuns(user),
      ]),
    ).toBe(0);
    const { client } = await connectUser(expiring, user, { lastSeq: 0 });
    client.send({ type: 'sync', runId: 'r1' });
    const snapshot = await client.waitFor('snapshot');
    expect(snapshot).toEqual({ type: 'snapshot', runId: 'r1', status: 'unknown', streams: {} });
    // Replayed history (agent_started) is kept by RETENTION_MS, not by the run's TTL.
    expect(client.frames.map((f) => f.type)).toEqual(['welcome', 'event', 'snapshot']);
    await client.close();

    // The stall job drops the expired run from the shard's running set.
    const redisClient = expiring.redis.createClient();
    try {
      const running = keys.shardRunning(keys.shardOf(user));
      await waitUntil(
        async () => (await redisClient.zscore(running, `${user}|r1`)) === null,
        RUN_STALL_MS + 4000,
        100,
        'the expired run leaving the running set',
      );
    } finally {
      redisClient.disconnect();
    }
  });
});
