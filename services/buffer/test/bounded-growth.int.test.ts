import type { RedisClient } from '@agentwire/redis';
import { type Stack, countKeys, startStack, usedMemory, waitUntil } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const RETENTION_MAX_EVENTS = 50;
const RETENTION_MS = 3000;
const USERS = 10;

describe('bounded growth: publishing far past every limit keeps Redis flat', () => {
  let stack: Stack;
  let client: RedisClient;

  beforeAll(async () => {
    stack = await startStack({
      edges: 1,
      buffers: 1,
      env: {
        RETENTION_MAX_EVENTS: String(RETENTION_MAX_EVENTS),
        RETENTION_MS: String(RETENTION_MS),
        DEDUPE_WINDOW_MS: String(RETENTION_MS),
        RETENTION_SWEEP_MS: '1000',
        SHARD_MAINTENANCE_MS: '500',
        INBOX_MAXLEN: '1000',
      },
    });
    client = stack.redis.createClient();
  });

  afterAll(async () => {
    client.disconnect();
    await stack.stop();
  });

  async function publishRound(round: number): Promise<void> {
    const events = Array.from({ length: 500 }, (_, i) => ({
      id: `r${round}-${i}`,
      userId: `growth-${i % USERS}`,
      name: Math.floor(i / USERS) % 5 === 0 ? 'token' : 'tool_executing',
      data: { pad: 'x'.repeat(200) },
    }));
    const result = await stack.ingest(events);
    expect(result.status).toBe(202);
  }

  it('keeps logs at RETENTION_MAX_EVENTS, trims ingest streams, and leaves no keys after retention', async () => {
    const prefix = stack.env.KEY_PREFIX as string;
    for (let round = 0; round < 4; round++) await publishRound(round);
    await waitUntil(async () => (await countKeys(client, `${prefix}:*:d:*`)) >= 2000, 10_000);
    const warmMemory = await usedMemory(client);

    // 20 000 more events: 40 times the per-user log limit.
    for (let round = 4; round < 44; round++) await publishRound(round);
    await waitUntil(async () => (await countKeys(client, `${prefix}:*:d:*:r43-*`)) === 500, 10_000);

    const nodes = 'nodes' in client ? client.nodes('master') : [client];
    for (let u = 0; u < USERS; u++) {
      const key = (
        await Promise.all(nodes.map((n) => n.keys(`${prefix}:*:u:growth-${u}:log`)))
      ).flat()[0] as string;
      expect(await client.xlen(key)).toBe(RETENTION_MAX_EVENTS);
    }
    // Ingest streams are trimmed past what the group acknowledged.
    await waitUntil(async () => {
      let total = 0;
      for (let shard = 0; shard < Number(stack.env.SHARDS); shard++) {
        total += await client.xlen(`${prefix}:{s${shard}}:ingest`);
      }
      return total < 1000;
    }, 10_000);
    const memoryGrowth = (await usedMemory(client)) - warmMemory;
    console.info(
      `bounded growth: used_memory grew ${Math.round(memoryGrowth / 1024)} KiB over 20k events`,
    );

    // Idle past retention (and the dedupe window): nothing of these users is left,
    // and memory is back where it was after the first 2000 events.
    const indexedUsers = async (): Promise<number> => {
      let total = 0;
      for (let shard = 0; shard < Number(stack.env.SHARDS); shard++) {
        total += await client.zcard(`${prefix}:{s${shard}}:users`);
      }
      return total;
    };
    await waitUntil(
      async () =>
        (await countKeys(client, `${prefix}:*growth-*`)) === 0 &&
        (await countKeys(client, `${prefix}:*:d:*`)) === 0 &&
        (await indexedUsers()) === 0,
      RETENTION_MS + 8000,
      250,
    );
    expect(await usedMemory(client)).toBeLessThan(warmMemory + 512 * 1024);
  }, 60_000);
});
