import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyLayout } from '@agentwire/redis';
import { startStack, waitUntil, type Stack } from '@agentwire/testing';
import { UnauthorizedError } from '../src/index.js';
import {
  edgeIndexOf,
  freshUserId,
  ingestOk,
  observedClient,
  range,
  runEvents,
  tokenDelta,
} from './stack-client.js';

/**
 * The SDK over SSE (transport 'sse', read with fetch in Node) against real
 * edges: the same API and guarantees as over a WebSocket.
 */
describe('client over SSE against a real stack (2 edges)', () => {
  let stack: Stack;
  let urls: string[];

  beforeAll(async () => {
    stack = await startStack({ edges: 2 });
    urls = stack.edges.map((e) => e.wsUrl);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('delivers, acks, publishes and resumes on the other edge exactly once', async () => {
    const userId = freshUserId('sse');
    const token = await stack.token(userId);
    const o = observedClient({ url: urls, getToken: () => token, transport: 'sse' });
    o.client.connect();
    await o.waitForState('connected');
    expect(o.client.transport).toBe('sse');
    const run = runEvents(userId, 'r1', 5);
    await ingestOk(stack, [run[0]!, tokenDelta(userId, 'r1', 'Hi'), ...run.slice(1)]);
    await o.waitForCritical(5);
    expect(o.all.map((e) => e.name)[1]).toBe('token');

    await expect(o.client.publish({ text: 'hi' }, { id: `m-${userId}` })).resolves.toEqual({
      id: `m-${userId}`,
    });

    o.client.reconnect();
    await ingestOk(stack, runEvents(userId, 'r2', 5), 1);
    await o.waitForCritical(10);
    expect(o.seqs()).toEqual(range(1, 10));
    expect(o.welcomes).toHaveLength(2);
    expect(o.welcomes[1]?.node).not.toBe(o.welcomes[0]?.node);

    // Acks go by POST /v1/ack: the user's acked position moves.
    const keys = createKeyLayout(stack.env.KEY_PREFIX ?? '', Number(stack.env.SHARDS));
    const redis = stack.redis.createClient();
    try {
      await waitUntil(
        async () => (await redis.hget(keys.userMeta(userId), 'acked')) === '10',
        10_000,
        100,
        'acked position 10',
      );
    } finally {
      redis.disconnect();
    }
    expect(o.errors).toEqual([]);
    o.client.disconnect();
  });

  it('follows a drain to another edge without loss or duplicates', async () => {
    const draining = await stack.startEdge({ DRAIN_WINDOW_MS: '300' });
    const userId = freshUserId('ssedrain');
    const token = await stack.token(userId);
    const o = observedClient({
      url: [draining.wsUrl, urls[0] as string],
      getToken: () => token,
      transport: 'sse',
      random: () => 0,
    });
    o.client.connect();
    await o.waitForState('connected');
    expect(o.welcomes[0]?.node).toBe(`edge-${stack.edges.indexOf(draining)}`);
    await ingestOk(stack, runEvents(userId, 'r1', 4));
    await o.waitForCritical(4);
    draining.signal('SIGTERM');
    const publishing = ingestOk(stack, runEvents(userId, 'r2', 4));
    await waitUntil(() => o.welcomes.length >= 2, 15_000, 20, 'second welcome');
    await publishing;
    await o.waitForCritical(8);
    expect(o.seqs()).toEqual(range(1, 8));
    expect(edgeIndexOf(stack, o.welcomes[1]!.node)).toBe(0);
    expect(o.disconnects[0]?.code).toBe(4503);
    await draining.exited;
    o.client.disconnect();
  });

  it('stops with UnauthorizedError when the token is refused (401 -> 4001)', async () => {
    const bad = await stack.token(freshUserId('bad'), {
      secret: 'not-the-secret-0123456789abcdef',
    });
    const o = observedClient({ url: urls, getToken: () => bad, transport: 'sse' });
    o.client.connect();
    await o.waitForState('closed');
    expect(o.errors.some((e) => e instanceof UnauthorizedError)).toBe(true);
  });

  it("transport 'auto' falls back to SSE behind a proxy that strips WebSocket upgrades", async () => {
    const proxy = await startUpgradeStrippingProxy(stack.edges[0]!.port);
    try {
      const userId = freshUserId('auto');
      const token = await stack.token(userId);
      const o = observedClient({
        url: `ws://127.0.0.1:${proxy.port}/v1/ws`,
        getToken: () => token,
        transport: 'auto',
        backoff: { minDelayMs: 10, maxDelayMs: 50 },
      });
      o.client.connect();
      await o.waitForState('connected');
      expect(o.client.transport).toBe('sse');
      expect(o.disconnects.length).toBeGreaterThanOrEqual(3);
      await ingestOk(stack, runEvents(userId, 'r1', 3));
      await o.waitForCritical(3);
      expect(o.seqs()).toEqual([1, 2, 3]);
      o.client.disconnect();
    } finally {
      proxy.server.closeAllConnections();
      await new Promise((resolve) => proxy.server.close(resolve));
    }
  });
});

/** A plain HTTP forwarding proxy that drops every upgrade, like proxies that strip WebSockets. */
async function startUpgradeStrippingProxy(
  targetPort: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const upstream = request(
      {
        host: '127.0.0.1',
        port: targetPort,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('upgrade', (_req, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
