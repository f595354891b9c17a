import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { startStack, TestWsClient, waitUntil, type Stack, type WsFrame } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestEvent, ingestOk, seqsOf, uniqueUser } from './support/edge-test-kit.js';

const DRAIN_WINDOW_MS = 2000;
const DRAIN_GRACE_MS = 5000;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    env: { DRAIN_WINDOW_MS: String(DRAIN_WINDOW_MS), DRAIN_GRACE_MS: String(DRAIN_GRACE_MS) },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

interface Observed {
  client: TestWsClient;
  user: string;
  reconnectAt?: number;
  closedAt?: number;
}

/** GET /readyz over `agent` (a kept-alive connection still answers after the listen socket closed). */
function readyStatus(port: number, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(2000, () => req.destroy(new Error('readyz timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('graceful drain on SIGTERM', () => {
  it('goes unready at once, spreads reconnects over DRAIN_WINDOW_MS, closes each 4503 at its afterMs, exits 0', async () => {
    const edge = await stack.startEdge();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await readyStatus(edge.port, agent)).toBe(200);
      const observed: Observed[] = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const user = uniqueUser(`drain${i}`);
          const client = await TestWsClient.connect(edge.wsUrl);
          await client.hello(await stack.token(user));
          const entry: Observed = { client, user };
          client.socket.on('message', () => {
            if (entry.reconnectAt === undefined && client.frames.at(-1)?.type === 'reconnect') {
              entry.reconnectAt = Date.now();
            }
          });
          void client.closed.then(() => {
            entry.closedAt = Date.now();
          });
          return entry;
        }),
      );

      const signalledAt = Date.now();
      edge.signal('SIGTERM');
      await waitUntil(
        async () => (await readyStatus(edge.port, agent)) === 503,
        300,
        10,
        'readyz 503 right after SIGTERM',
      );
      // New connections are refused from now on.
      await expect(TestWsClient.connect(edge.wsUrl)).rejects.toThrow();

      await Promise.all(observed.map((o) => o.client.waitFor('reconnect', 2000)));
      const afterMs = observed.map(
        (o) => (o.client.frames.find((f) => f.type === 'reconnect') as WsFrame).afterMs as number,
      );
      for (const delay of afterMs) {
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(DRAIN_WINDOW_MS);
      }
      expect(new Set(afterMs).size).toBeGreaterThan(10);
      expect(Math.max(...afterMs) - Math.min(...afterMs)).toBeGreaterThan(1000);

      // Until its afterMs a connection keeps receiving live events.
      const last = observed[afterMs.indexOf(Math.max(...afterMs))] as Observed;
      await ingestOk(stack, ingestEvent(last.user));
      await last.client.waitForEvents(1, 3000);

      const exit = await edge.exited;
      const exitedAfter = Date.now() - signalledAt;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(exitedAfter).toBeLessThan(DRAIN_GRACE_MS);
      for (const [i, o] of observed.entries()) {
        const closed = await o.client.closed;
        expect(closed.code).toBe(4503);
        // Closed at its afterMs after the reconnect frame, not before.
        const heldMs = (o.closedAt ?? 0) - (o.reconnectAt ?? 0);
        expect(heldMs).toBeGreaterThanOrEqual((afterMs[i] as number) - 50);
        expect(heldMs).toBeLessThan((afterMs[i] as number) + 500);
        expect(o.client.frames.at(-1)?.type).not.toBe('welcome');
      }
      expect(seqsOf(last.client)).toEqual([1]);

      // Its routes are gone: presence (asked on the surviving edge) counts nobody.
      const presence = await fetch(`${stack.edges[0]?.url}/v1/users/${last.user}/presence`, {
        headers: { authorization: `Bearer ${stack.env.INGEST_TOKEN}` },
      });
      expect(await presence.json()).toEqual({ userId: last.user, connections: 0, nodes: [] });
    } finally {
      agent.destroy();
    }
  });

  it('lets an ingest request that is in flight at SIGTERM finish with 202 before exiting', async () => {
    const edge = await stack.startEdge();
    const body = JSON.stringify(ingestEvent(uniqueUser('inflight')));
    const socket = connect(edge.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    let received = '';
    let closedByServer = false;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
    });
    socket.on('end', () => {
      closedByServer = true;
    });
    const half = Math.floor(body.length / 2);
    socket.write(
      `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${stack.env.INGEST_TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, half)}`,
    );
    // The request has reached the handler before the signal.
    await new Promise((resolve) => setTimeout(resolve, 200));
    edge.signal('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(edge.isRunning()).toBe(true);
    // write, not end: uWS treats a half-closed socket as an aborted request.
    socket.write(body.slice(half));
    await waitUntil(() => received.includes('\r\n\r\n'), 3000, 20, 'a response');
    expect(received.startsWith('HTTP/1.1 202')).toBe(true);
    // A draining node does not keep the producer's connection alive.
    expect(received.toLowerCase()).toContain('connection: close');
    await waitUntil(() => closedByServer, 3000, 20, 'the server closing the connection');
    expect(await edge.exited).toEqual({ code: 0, signal: null });
    socket.destroy();
  });
});
