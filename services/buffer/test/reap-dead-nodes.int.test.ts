import { createKeyLayout, type KeyLayout, type RedisClient } from '@agentwire/redis';
import { uniquePrefix } from '@agentwire/testing';
import { describe, expect, it } from 'vitest';
import { reapDeadNodes } from '../src/jobs/reap-dead-nodes.js';
import { useSharedTestRedis } from './support/shared-test-redis.js';

const NODE_TTL_MS = 3000;

const redis = useSharedTestRedis();

/** What an edge leaves in Redis: heartbeat, routes of its users, user set, inbox. */
async function seedNode(
  keys: KeyLayout,
  node: string,
  heartbeat: number,
  users: string[],
): Promise<void> {
  await redis.client.zadd(keys.nodes(), heartbeat, node);
  for (const user of users) {
    await redis.client.hset(keys.userRoutes(user), node, 1);
    await redis.client.sadd(keys.nodeUsers(node), user);
  }
  await redis.client.xadd(
    keys.inbox(node),
    '*',
    'u',
    users[0] ?? 'x',
    's',
    '0',
    'f',
    '{}',
    'e',
    '',
  );
}

describe('reapDeadNodes', () => {
  it('removes an expired node entirely and leaves live nodes alone', async () => {
    const keys = createKeyLayout(uniquePrefix('reap'), 4);
    const now = Date.now();
    const users = Array.from({ length: 1200 }, (_, i) => `u${i}`);
    await seedNode(keys, 'dead', now - NODE_TTL_MS - 1000, users);
    await seedNode(keys, 'alive', now, ['u1', 'u2']);

    expect(await reapDeadNodes(redis.client, keys, NODE_TTL_MS, now)).toEqual(['dead']);
    // Batches of 500 users: every one of the 1200 routes went.
    for (const user of users) {
      expect(await redis.client.hexists(keys.userRoutes(user), 'dead')).toBe(0);
    }
    expect(await redis.client.exists(keys.nodeUsers('dead'), keys.inbox('dead'))).toBe(0);
    expect(await redis.client.zscore(keys.nodes(), 'dead')).toBeNull();
    expect(await redis.client.hget(keys.userRoutes('u1'), 'alive')).toBe('1');
    expect(await redis.client.scard(keys.nodeUsers('alive'))).toBe(2);
    expect(await redis.client.exists(keys.inbox('alive'))).toBe(1);
    expect(await redis.client.exists(keys.nodeReaped('dead'))).toBe(1);
    expect(await redis.client.exists(keys.nodeReaped('alive'))).toBe(0);
    // Idempotent.
    expect(await reapDeadNodes(redis.client, keys, NODE_TTL_MS, now)).toEqual([]);
  });

  it('backs off from a node id that heartbeats again (a restarted edge reusing it)', async () => {
    const keys = createKeyLayout(uniquePrefix('reap'), 4);
    const now = Date.now();
    await seedNode(keys, 'reused', now - NODE_TTL_MS - 1000, ['a', 'b']);
    // The restarted process heartbeats after the reaper read its list of dead
    // nodes (it passes `now` from before), and has registered a new user.
    await redis.client.zadd(keys.nodes(), now + 10, 'reused');
    await redis.client.hset(keys.userRoutes('c'), 'reused', 1);
    await redis.client.sadd(keys.nodeUsers('reused'), 'c');

    expect(await reapDeadNodes(redis.client, keys, NODE_TTL_MS, now)).toEqual([]);
    expect(await redis.client.hget(keys.userRoutes('c'), 'reused')).toBe('1');
    expect(await redis.client.sismember(keys.nodeUsers('reused'), 'c')).toBe(1);
    expect(await redis.client.exists(keys.inbox('reused'))).toBe(1);
    expect(await redis.client.zscore(keys.nodes(), 'reused')).not.toBeNull();
    // Nothing of it was removed: nothing to tell it.
    expect(await redis.client.exists(keys.nodeReaped('reused'))).toBe(0);
  });

  it('marks a node whose heartbeat comes back while its routes are being removed', async () => {
    const keys = createKeyLayout(uniquePrefix('reap'), 4);
    const now = Date.now();
    const users = Array.from({ length: 600 }, (_, i) => `u${i}`);
    await seedNode(keys, 'late', now - NODE_TTL_MS - 1000, users);
    // The node was alive but cut off (a Redis failover): its beat lands after
    // the reaper's first check, i.e. after the first batch of removals (SSCAN
    // COUNT 500: a few hundred users).
    let checks = 0;
    const client = new Proxy(redis.client, {
      get(target, property) {
        if (property === 'zscore') {
          return async (key: string, member: string) => {
            if (++checks === 2) await target.zadd(keys.nodes(), now + 10, 'late');
            return target.zscore(key, member);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    }) as RedisClient;

    expect(await reapDeadNodes(client, keys, NODE_TTL_MS, now)).toEqual([]);
    const removed = await Promise.all(
      users.map((user) => redis.client.hexists(keys.userRoutes(user), 'late')),
    );
    expect(removed.filter((exists) => exists === 0).length).toBeGreaterThan(0);
    expect(await redis.client.exists(keys.nodeUsers('late'), keys.inbox('late'))).toBe(2);
    // The node reads this at its next heartbeat and restores its routes.
    expect(await redis.client.exists(keys.nodeReaped('late'))).toBe(1);
    expect(await redis.client.pttl(keys.nodeReaped('late'))).toBeGreaterThan(0);
  });
});
