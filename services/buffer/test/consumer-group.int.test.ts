import {
  type RedisClient,
  createKeyLayout,
  createRedisClient,
  ensureConsumerGroup,
  readConsumerGroups,
} from '@agentwire/redis';
import { type TestRedis, redisTargetOf, startTestRedis, uniquePrefix } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let redis: TestRedis;
let client: RedisClient;

beforeAll(async () => {
  redis = await startTestRedis();
  // The services' own client: auto-pipelined, which is where a cluster misroutes
  // XGROUP and XINFO (their key comes after a subcommand).
  client = createRedisClient(redisTargetOf(redis), { name: 'consumer-group-test' });
});

afterAll(async () => {
  client.disconnect();
  await redis.stop();
});

describe('consumer groups through scripts', () => {
  it('creates and reads the groups of every shard while other writes share the pipeline', async () => {
    const keys = createKeyLayout(uniquePrefix('groups'), 16);
    const shards = Array.from({ length: 16 }, (_, shard) => shard);
    const busy = (): Array<Promise<unknown>> =>
      shards.map((shard) => client.xadd(keys.shardUsers(shard), '*', 'f', 'v'));
    // Same tick: the group commands are pipelined with writes to every node.
    const created = await Promise.all([
      ...shards.map((shard) => ensureConsumerGroup(client, keys.ingest(shard), 'buffer')),
      ...busy(),
    ]);
    expect(created.slice(0, 16)).toEqual(shards.map(() => true));
    const again = await Promise.all(
      shards.map((shard) => ensureConsumerGroup(client, keys.ingest(shard), 'buffer')),
    );
    expect(again).toEqual(shards.map(() => false));
    const groups = await Promise.all([
      ...shards.map((shard) => readConsumerGroups(client, keys.ingest(shard))),
      ...busy(),
    ]);
    for (const info of groups.slice(0, 16) as Array<Array<Array<string | number>>>) {
      expect(info).toHaveLength(1);
      expect(info[0]?.[1]).toBe('buffer');
    }
    expect(await readConsumerGroups(client, keys.ingest(99))).toEqual([]);
  });
});
