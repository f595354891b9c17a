import { createKeyLayout, type KeyLayout, type RedisClient } from '@agentwire/redis';
import { startTestRedis, uniquePrefix, type TestRedis } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reapDeadNodes } from '../src/jobs/reap-dead-nodes.js';

const NODE_TTL_MS = 3000;

let redis: TestRedis;
let client: RedisClient;

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.createClient();
});

afterAll(async () => {
  await client.quit();
  await redis.stop();
});

/** What an edge leaves in Redis: heartbeat, routes of its users, user set, inbox. */
async function seedNode(
  keys: KeyLayout,
  node: string,
  heartbeat: number,
  users: string[],
): Promise<void> {
  await client.zadd(keys.nodes(), heartbeat, node);
  for (const user of users) {
    await client.hset(keys.userRoutes(user), node, 1);
    await client.sadd(keys.nodeUsers(node), user);
  }
  await client.xadd(keys.inbox(node), '*', 'u', users[0] ?? 'x', 's', '0', 'f', '{}', 'e', '');
}

describe('reapDeadNodes', () => {
  it('removes an expired node entirely and leaves live nodes alone', async () => {
    const keys = createKeyLayout(uniquePrefix('reap'), 4);
    const now = Date.now();
    const users = Array.from({ length: 1200 }, (_, i) => `u${i}`);
    await seedNode(keys, 'dead', now - NODE_TTL_MS - 1000, users);
    await seedNode(keys, 'alive', now, ['u1', 'u2']);

    expect(await reapDeadNodes(client, keys, NODE_TTL_MS, now)).toEqual(['dead']);
    // Batches of 500 users: every one of the 1200 routes went.
    for (const user of users) {
      expect(await client.hexists(keys.userRoutes(user), 'dead')).toBe(0);
    }
    expect(await client.exists(keys.nodeUsers('dead'), keys.inbox('dead'))).toBe(0);
    expect(await client.zscore(keys.nodes(), 'dead')).toBeNull();
    expect(await client.hget(keys.userRoutes('u1'), 'alive')).toBe('1');
    expect(await client.scard(keys.nodeUsers('alive'))).toBe(2);
    expect(await client.exists(keys.inbox('alive'))).toBe(1);
    // Idempotent.
    expect(await reapDeadNodes(client, keys, NODE_TTL_MS, now)).toEqual([]);
  });

  it('backs off from a node id that heartbeats again (a restarted edge reusing it)', async () => {
    const keys = createKeyLayout(uniquePrefix('reap'), 4);
    const now = Date.now();
    await seedNode(keys, 'reused', now - NODE_TTL_MS - 1000, ['a', 'b']);
    // The restarted process heartbeats after the reaper read its list of dead
    // nodes (it passes `now` from before), and has registered a new user.
    await client.zadd(keys.nodes(), now + 10, 'reused');
    await client.hset(keys.userRoutes('c'), 'reused', 1);
    await client.sadd(keys.nodeUsers('reused'), 'c');

    expect(await reapDeadNodes(client, keys, NODE_TTL_MS, now)).toEqual([]);
    expect(await client.hget(keys.userRoutes('c'), 'reused')).toBe('1');
    expect(await client.sismember(keys.nodeUsers('reused'), 'c')).toBe(1);
    expect(await client.exists(keys.inbox('reused'))).toBe(1);
    expect(await client.zscore(keys.nodes(), 'reused')).not.toBeNull();
  });
});
