import { createKeyLayout } from '@agentwire/redis';
import { startStack, TestWsClient, type ServiceProcess, type Stack } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueUser } from './support/edge-test-kit.js';

const NODE_TTL_MS = 3000;

let stack: Stack;

// No buffer: nothing reaps dead nodes here, so what is tested is the edge's own doing.
beforeAll(async () => {
  stack = await startStack({
    edges: 2,
    buffers: 0,
    env: { MAX_CONNECTIONS_PER_USER: '2', NODE_TTL_MS: String(NODE_TTL_MS) },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const keys = (): ReturnType<typeof createKeyLayout> =>
  createKeyLayout(stack.env.KEY_PREFIX ?? '', Number(stack.env.SHARDS));

/** Opens a socket on `edge` and sends hello: resolves with the welcomed client, or its close code. */
async function attempt(
  edge: ServiceProcess,
  user: string,
): Promise<{ client: TestWsClient; closed?: { code: number; reason: string } }> {
  const client = await TestWsClient.connect(edge.wsUrl);
  const welcomed = await client.hello(await stack.token(user)).then(
    () => true,
    () => false,
  );
  return welcomed ? { client } : { client, closed: await client.closed };
}

async function presence(user: string): Promise<unknown> {
  const res = await fetch(`${stack.edges[0]?.url}/v1/users/${user}/presence`, {
    headers: { authorization: `Bearer ${stack.env.INGEST_TOKEN}` },
  });
  return res.json();
}

async function routesOf(user: string): Promise<Record<string, string>> {
  const redis = stack.redis.createClient();
  try {
    return await redis.hgetall(keys().userRoutes(user));
  } finally {
    redis.disconnect();
  }
}

describe('per-user connection limit across nodes', () => {
  it('counts connections on every node: the third gets 4008 with a reason, a close frees a slot', async () => {
    const user = uniqueUser('limit');
    const [edgeA, edgeB] = stack.edges as [ServiceProcess, ServiceProcess];
    const first = await attempt(edgeA, user);
    const second = await attempt(edgeB, user);
    expect(first.closed).toBeUndefined();
    expect(second.closed).toBeUndefined();
    const third = await attempt(edgeA, user);
    expect(third.closed?.code).toBe(4008);
    expect(third.closed?.reason).toMatch(/too many connections for this user \(2 of 2\)/);

    await second.client.close();
    // closeSession runs after the socket closed: retry briefly.
    let retry = await attempt(edgeA, user);
    for (let i = 0; i < 20 && retry.closed; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      retry = await attempt(edgeA, user);
    }
    expect(retry.closed).toBeUndefined();
    await Promise.all([first.client.close(), retry.client.close()]);
  });

  it('stops counting a SIGKILLed node once its heartbeat expires, before any reaper', async () => {
    const user = uniqueUser('deadnode');
    const victim = await stack.startEdge();
    const held = [await attempt(victim, user), await attempt(victim, user)];
    expect(held.every((h) => h.closed === undefined)).toBe(true);
    const survivor = stack.edges[0] as ServiceProcess;
    expect((await attempt(survivor, user)).closed?.code).toBe(4008);

    await victim.kill();
    const killedAt = Date.now();
    // Right after the kill the node's heartbeat is still fresh: it still counts.
    expect((await attempt(survivor, user)).closed?.code).toBe(4008);
    let admitted: TestWsClient | undefined;
    while (admitted === undefined && Date.now() - killedAt < NODE_TTL_MS + 3000) {
      const result = await attempt(survivor, user);
      if (result.closed === undefined) admitted = result.client;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const waited = Date.now() - killedAt;
    expect(admitted).toBeDefined();
    // Heartbeat expiry (at most NODE_TTL_MS after the kill) plus the 1 s live-node cache.
    expect(waited).toBeLessThan(NODE_TTL_MS + 1000 + 300);
    // The dead node's routes are still there: the limit ignored them, nobody reaped them.
    expect((await routesOf(user))[`edge-2`]).toBe('2');
    await admitted?.close();
  });
});

describe('NODE_ID reuse', () => {
  it('a restarted edge with the same NODE_ID removes what its predecessor left before it is ready', async () => {
    const nodeId = 'edge-reused';
    const user = uniqueUser('reuse');
    const before = await stack.startEdge({ NODE_ID: nodeId });
    const clients = [await attempt(before, user), await attempt(before, user)];
    expect(clients.every((c) => c.closed === undefined)).toBe(true);
    expect(await presence(user)).toEqual({ userId: user, connections: 2, nodes: [nodeId] });

    await before.kill();
    const redis = stack.redis.createClient();
    try {
      await redis.xadd(keys().inbox(nodeId), '*', 'u', user, 's', '0', 'f', '{}', 'e', '');
      const after = await stack.startEdge({ NODE_ID: nodeId });
      // Ready means cleaned up: the new process's heartbeat is fresh, yet nothing counts.
      expect(await presence(user)).toEqual({ userId: user, connections: 0, nodes: [] });
      expect(await redis.hget(keys().userRoutes(user), nodeId)).toBeNull();
      expect(await redis.exists(keys().nodeUsers(nodeId))).toBe(0);
      expect(await redis.exists(keys().inbox(nodeId))).toBe(0);

      // And it serves the user normally.
      const fresh = await attempt(after, user);
      expect(fresh.closed).toBeUndefined();
      expect(await presence(user)).toEqual({ userId: user, connections: 1, nodes: [nodeId] });
      await fresh.client.close();
    } finally {
      redis.disconnect();
    }
  });
});
