import { createKeyLayout, markNodeReaped, removeNodeState } from '@agentwire/redis';
import { type Stack, startStack, waitUntil } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectUser,
  ingestEvent,
  ingestOk,
  range,
  seqsOf,
  uniqueUser,
} from './support/edge-test-kit.js';

const NODE_TTL_MS = 3000;
const RECONCILE_MS = 300;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    edges: 1,
    buffers: 1,
    env: { NODE_TTL_MS: String(NODE_TTL_MS), ROUTE_RECONCILE_MS: String(RECONCILE_MS) },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('an edge taken for dead while alive', () => {
  it('restores its routes at its next heartbeat and catches up what was not forwarded', async () => {
    const user = uniqueUser('revived');
    const { client } = await connectUser(stack, user, { lastSeq: 0 });
    await ingestOk(stack, [ingestEvent(user)]);
    await client.waitForEvents(1);

    // Do what the reaper does to a node whose heartbeat aged past NODE_TTL_MS
    // (for example while it could not reach Redis): its routes and inbox go.
    const keys = createKeyLayout(stack.env.KEY_PREFIX as string, Number(stack.env.SHARDS));
    const redis = stack.redis.createClient();
    try {
      await redis.zadd(keys.nodes(), Date.now() - 2 * NODE_TTL_MS, 'edge-0');
      await removeNodeState(redis, keys, 'edge-0');
      await redis.zrem(keys.nodes(), 'edge-0');
      expect(await redis.hget(keys.userRoutes(user), 'edge-0')).toBeNull();

      // Accepted while the node has no route: persisted, not forwarded.
      await ingestOk(stack, [ingestEvent(user)]);
      await waitUntil(
        async () => (await redis.hget(keys.userRoutes(user), 'edge-0')) === '1',
        NODE_TTL_MS,
      );
      expect(await redis.sismember(keys.nodeUsers('edge-0'), user)).toBe(1);
    } finally {
      redis.disconnect();
    }

    // The next event is forwarded again; its seq gap makes the edge read the missed one.
    await ingestOk(stack, [ingestEvent(user)]);
    await client.waitForEvents(3);
    expect(seqsOf(client)).toEqual(range(1, 3));
  }, 30_000);
});

describe('an edge whose heartbeat came back while the reaper removed its routes', () => {
  // No periodic reconciliation during the test: only the reaper's mark restores the route.
  let quiet: Stack;
  beforeAll(async () => {
    quiet = await startStack({
      edges: 1,
      buffers: 1,
      env: { NODE_TTL_MS: String(NODE_TTL_MS), ROUTE_RECONCILE_MS: '600000' },
    });
  }, 60_000);
  afterAll(async () => {
    await quiet?.stop();
  });

  it('restores them at its next heartbeat and sends what was missed without waiting for another event', async () => {
    const user = uniqueUser('reaped-alive');
    const { client } = await connectUser(quiet, user, { lastSeq: 0 });
    await ingestOk(quiet, [ingestEvent(user)]);
    await client.waitForEvents(1);

    // What a reaper leaves when the node heartbeats again midway (after a
    // Redis failover its first beats all land at once, none of them late):
    // routes gone, the node still listed with a fresh heartbeat.
    const keys = createKeyLayout(quiet.env.KEY_PREFIX as string, Number(quiet.env.SHARDS));
    const redis = quiet.redis.createClient();
    try {
      await redis.hdel(keys.userRoutes(user), 'edge-0');
      // Persisted, forwarded to nobody; the last event: no later one reveals a gap.
      await ingestOk(quiet, [ingestEvent(user)]);
      await waitUntil(async () => (await redis.hget(keys.userMeta(user), 'seq')) === '2', 5000);
      expect(client.events()).toHaveLength(1);

      await markNodeReaped(redis, keys, 'edge-0');
      await client.waitForEvents(2, NODE_TTL_MS);
      expect(seqsOf(client)).toEqual(range(1, 2));
      expect(await redis.hget(keys.userRoutes(user), 'edge-0')).toBe('1');
      expect(await redis.exists(keys.nodeReaped('edge-0'))).toBe(0);
    } finally {
      redis.disconnect();
    }
  }, 30_000);
});

describe('route reconciliation', () => {
  it('repairs route counts a lost reply or a failover left wrong, in both directions', async () => {
    const user = uniqueUser('reconcile');
    const { client } = await connectUser(stack, user, { lastSeq: 0 });
    const keys = createKeyLayout(stack.env.KEY_PREFIX as string, Number(stack.env.SHARDS));
    const redis = stack.redis.createClient();
    const routeOf = (userId: string) => redis.hget(keys.userRoutes(userId), 'edge-0');
    try {
      expect(await routeOf(user)).toBe('1');
      // openSession ran but its reply was lost (the edge closed that socket): one too high.
      await redis.hincrby(keys.userRoutes(user), 'edge-0', 1);
      // A user this node no longer holds, left behind the same way.
      const gone = uniqueUser('gone');
      await redis.hset(keys.userRoutes(gone), 'edge-0', 1);
      await redis.sadd(keys.nodeUsers('edge-0'), gone);
      await waitUntil(
        async () =>
          (await routeOf(user)) === '1' &&
          (await routeOf(gone)) === null &&
          (await redis.sismember(keys.nodeUsers('edge-0'), gone)) === 0,
        5 * RECONCILE_MS + 2000,
        50,
        'route counts back to the open sessions',
      );

      // A failover took the route write back: the count is restored from the socket.
      await redis.hdel(keys.userRoutes(user), 'edge-0');
      await waitUntil(async () => (await routeOf(user)) === '1', 5 * RECONCILE_MS + 2000, 50);
      await ingestOk(stack, [ingestEvent(user)]);
      await client.waitForEvents(1);
    } finally {
      redis.disconnect();
    }
  }, 30_000);
});
