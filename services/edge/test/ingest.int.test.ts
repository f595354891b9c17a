import {
  startRedis,
  startStack,
  TestWsClient,
  waitUntil,
  type ServiceProcess,
  type Stack,
} from '@agentwire/testing';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PresenceResponse } from '@agentwire/protocol';
import { createKeyLayout, createRedisClient } from '@agentwire/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectUser,
  ingestEvent,
  ingestOk,
  range,
  seqsOf,
  startEdgeOnRedis,
  uniqueUser,
} from './support/edge-test-kit.js';

const INGEST_TOKEN_HEADER = (stack: Stack) => ({
  authorization: `Bearer ${stack.env.INGEST_TOKEN}`,
});

let stack: Stack;
/** A second edge with a 4 KiB request body limit. */
let smallBody: ServiceProcess;

beforeAll(async () => {
  stack = await startStack();
  smallBody = await stack.startEdge({ INGEST_MAX_BODY_BYTES: '4096' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('POST /v1/events', () => {
  it('accepts one event (202 {accepted:1}) and delivers it with seq 1', async () => {
    const user = uniqueUser('single');
    const { client } = await connectUser(stack, user);
    const result = await stack.ingest(ingestEvent(user, { data: { tool: 'search' } }));
    expect(result.status).toBe(202);
    expect(result.body).toEqual({ accepted: 1 });
    const [event] = await client.waitForEvents(1);
    expect(event).toMatchObject({
      type: 'event',
      seq: 1,
      critical: true,
      name: 'tool_executing',
      data: { tool: 'search' },
    });
    expect(typeof event?.ts).toBe('number');
    await client.close();
  });

  it('accepts a batch and delivers it contiguously from seq 1, in order', async () => {
    const user = uniqueUser('batch');
    const { client } = await connectUser(stack, user);
    const events = range(1, 20).map((n) => ingestEvent(user, { id: `b-${user}-${n}`, data: n }));
    const result = await stack.ingest(events);
    expect(result).toMatchObject({ status: 202, body: { accepted: 20 } });
    const received = await client.waitForEvents(20);
    expect(seqsOf(client)).toEqual(range(1, 20));
    expect(received.map((e) => e.data)).toEqual(range(1, 20));
    await client.close();
  });

  it('rejects a batch with bad items with 400 and per-item errors, appending nothing', async () => {
    const user = uniqueUser('badbatch');
    const { client } = await connectUser(stack, user);
    const result = await stack.ingest([
      ingestEvent(user),
      { id: 'x', name: 'tool_executing' },
      ingestEvent(user),
      { ...ingestEvent(user), name: 'n'.repeat(65) },
      { ...ingestEvent(user), critical: 'yes' },
    ]);
    expect(result.status).toBe(400);
    const body = result.body as {
      error: string;
      errors: Array<{ index: number; message: string }>;
    };
    expect(body.error).toBe('bad_request');
    expect(body.errors.map((e) => e.index)).toEqual([1, 3, 4]);
    for (const error of body.errors) expect(typeof error.message).toBe('string');
    // Nothing of the rejected batch exists: the next event is seq 1 and comes alone.
    await ingestOk(stack, ingestEvent(user, { id: `marker-${user}` }));
    const [event] = await client.waitForEvents(1);
    expect(event).toMatchObject({ id: `marker-${user}`, seq: 1 });
    expect(client.events()).toHaveLength(1);
    await client.close();
  });

  it('answers 400 to an empty array, invalid JSON and a non-object', async () => {
    expect((await stack.ingest([])).status).toBe(400);
    expect((await stack.ingest(42)).status).toBe(400);
    const invalid = await fetch(`${stack.edges[0]?.url}/v1/events`, {
      method: 'POST',
      headers: INGEST_TOKEN_HEADER(stack),
      body: '{"id":',
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: 'bad_request' });
  });

  it('answers 401 without the ingest token or with a wrong one', async () => {
    const event = ingestEvent(uniqueUser('unauth'));
    expect((await stack.ingest(event, { token: 'wrong' })).status).toBe(401);
    const bare = await fetch(`${stack.edges[0]?.url}/v1/events`, {
      method: 'POST',
      body: JSON.stringify(event),
    });
    expect(bare.status).toBe(401);
  });

  it('answers 413 to an event over MAX_EVENT_BYTES and to more than 1000 events', async () => {
    const user = uniqueUser('big');
    const oversize = await stack.ingest([
      ingestEvent(user),
      ingestEvent(user, { data: 'x'.repeat(70_000) }),
    ]);
    expect(oversize.status).toBe(413);
    expect((oversize.body as { errors: Array<{ index: number }> }).errors[0]?.index).toBe(1);
    const tooMany = await stack.ingest(range(1, 1001).map(() => ingestEvent(user)));
    expect(tooMany.status).toBe(413);
  });

  it('answers 413 to a body over INGEST_MAX_BODY_BYTES without reading all of it', async () => {
    const user = uniqueUser('body');
    const declared = await stack.ingest(
      range(1, 40).map(() => ingestEvent(user, { data: 'y'.repeat(200) })),
      { edge: 1 },
    );
    expect(declared.status).toBe(413);
    // Chunked (no Content-Length): the limit applies while streaming, and the
    // answer comes while the client is still sending.
    const statusLine = await postChunkedWithoutEnd(
      smallBody.port,
      stack.env.INGEST_TOKEN ?? '',
      5000,
    );
    expect(statusLine).toMatch(/^HTTP\/1\.1 413/);
  });

  it('takes criticality from the event, else from the critical name list', async () => {
    const user = uniqueUser('critical');
    const { client } = await connectUser(stack, user);
    await ingestOk(stack, [
      ingestEvent(user, { name: 'agent_started' }),
      ingestEvent(user, { name: 'token_delta' }),
      ingestEvent(user, { name: 'custom_milestone', critical: true }),
      ingestEvent(user, { name: 'tool_executing', critical: false }),
      ingestEvent(user, { name: 'agent_completed' }),
    ]);
    const events = await client.waitForEvents(5);
    expect(events.map((e) => [e.name, e.critical, e.seq])).toEqual([
      ['agent_started', true, 1],
      ['token_delta', false, undefined],
      ['custom_milestone', true, 2],
      ['tool_executing', false, undefined],
      ['agent_completed', true, 3],
    ]);
    for (const event of events.filter((e) => e.critical === false))
      expect('seq' in event).toBe(false);
    await client.close();
  });

  it('accepts a repeated event id again but delivers it once', async () => {
    const user = uniqueUser('dupe');
    const { client } = await connectUser(stack, user);
    const event = ingestEvent(user, { id: `dupe-${user}` });
    expect((await stack.ingest(event)).body).toEqual({ accepted: 1 });
    expect((await stack.ingest([event, event])).body).toEqual({ accepted: 2 });
    await ingestOk(stack, ingestEvent(user, { id: `after-${user}` }));
    await client.waitFor((frame) => frame.id === `after-${user}`);
    expect(client.events().map((e) => [e.id, e.seq])).toEqual([
      [`dupe-${user}`, 1],
      [`after-${user}`, 2],
    ]);
    await client.close();
  });
});

describe('presence, health, metrics', () => {
  it('reports connections and live nodes of a user', async () => {
    const user = uniqueUser('presence');
    const url = (path: string) => `${stack.edges[0]?.url}${path}`;
    const read = async (): Promise<PresenceResponse> =>
      (
        await fetch(url(`/v1/users/${user}/presence`), { headers: INGEST_TOKEN_HEADER(stack) })
      ).json() as Promise<PresenceResponse>;
    expect(await read()).toEqual({ userId: user, connections: 0, nodes: [] });
    const a = await connectUser(stack, user, {}, 0);
    const b = await connectUser(stack, user, {}, 1);
    const c = await connectUser(stack, user, {}, 1);
    expect(await read()).toEqual({ userId: user, connections: 3, nodes: ['edge-0', 'edge-1'] });
    await Promise.all([a.client.close(), b.client.close(), c.client.close()]);
    await waitUntil(async () => (await read()).connections === 0, 5000);
    expect(await read()).toEqual({ userId: user, connections: 0, nodes: [] });

    expect((await fetch(url(`/v1/users/${user}/presence`))).status).toBe(401);
    expect(
      (await fetch(url('/v1/users/bad%20id/presence'), { headers: INGEST_TOKEN_HEADER(stack) }))
        .status,
    ).toBe(400);
  });

  it('serves /healthz, /readyz, /metrics and a JSON 404', async () => {
    const base = stack.edges[0]?.url ?? '';
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'aw_edge_connections',
      'aw_edge_connects_total',
      'aw_edge_events_sent_total',
      'aw_edge_ingest_requests_total',
      'aw_edge_delivery_latency_seconds',
      'process_cpu_user_seconds_total',
    ]) {
      expect(metrics).toContain(name);
    }
    const missing = await fetch(`${base}/nothing-here`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
  });
});

describe('demo files', () => {
  it('serves DEMO_DIR under /demo/ with content types and nothing outside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aw-demo-'));
    try {
      await writeFile(join(dir, 'index.html'), '<!doctype html><title>demo</title>');
      await writeFile(join(dir, 'app.js'), 'console.log(1);');
      const edge = await stack.startEdge({ DEMO_DIR: dir });
      const index = await fetch(`${edge.url}/demo/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toContain('text/html');
      expect(await index.text()).toContain('<title>demo</title>');
      const script = await fetch(`${edge.url}/demo/app.js`);
      expect(script.headers.get('content-type')).toContain('text/javascript');
      expect((await fetch(`${edge.url}/demo/missing.js`)).status).toBe(404);
      expect((await fetch(`${edge.url}/demo/%2e%2e/package.json`)).status).toBe(404);
      expect((await fetch(`${edge.url}/demo/..%2f..%2fetc%2fpasswd`)).status).toBe(404);
      await edge.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Redis outage', () => {
  it('answers 503 with Retry-After and is not ready while Redis is down, recovers, stops cleanly', async () => {
    const redis = await startRedis();
    let edge: ServiceProcess | undefined;
    try {
      edge = await startEdgeOnRedis(stack, redis.url, {
        NODE_ID: 'edge-outage',
        HELLO_TIMEOUT_MS: '1000',
      });
      const post = () =>
        fetch(`${edge?.url}/v1/events`, {
          method: 'POST',
          headers: INGEST_TOKEN_HEADER(stack),
          body: JSON.stringify(ingestEvent(uniqueUser('outage'))),
          signal: AbortSignal.timeout(5000),
        });
      expect((await post()).status).toBe(202);
      await redis.kill();
      await waitUntil(async () => (await fetch(`${edge?.url}/readyz`)).status === 503, 5000);
      const refused = await post();
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      // A hello cannot open a session now: the socket closes (1011) instead of hanging.
      const helloUser = uniqueUser('outage');
      const socket = await TestWsClient.connect(edge.wsUrl);
      socket.send({ type: 'hello', token: await stack.token(helloUser) });
      expect((await socket.closed).code).toBe(1011);
      await redis.restart();
      await waitUntil(async () => (await fetch(`${edge?.url}/readyz`)).status === 200, 10_000);
      // The hello's session script waited in the client's queue and runs now
      // Redis is back (it creates the user's meta); its clean-up (the socket
      // had closed) ends with the SREM from the node's users. Redis must not
      // go again before that, or the stop rightly gives up on it (exit 3).
      const keys = createKeyLayout(stack.env.KEY_PREFIX as string, Number(stack.env.SHARDS));
      const probe = createRedisClient({ url: redis.url }, { name: 'outage-probe' });
      try {
        await waitUntil(
          async () =>
            (await probe.exists(keys.userMeta(helloUser))) === 1 &&
            (await probe.sismember(keys.nodeUsers('edge-outage'), helloUser)) === 0,
          5000,
        );
      } finally {
        probe.disconnect();
      }
      expect((await post()).status).toBe(202);
      // SIGTERM while Redis is gone still exits 0, without waiting for the grace period.
      await redis.kill();
      // On failure the edge's log says which stop step gave up (exit code 3) and why.
      const exit = await edge.stop(5000);
      expect(exit, edge.output()).toEqual({ code: 0, signal: null });
    } finally {
      await edge?.stop();
      await redis.stop();
    }
  });
});

/** Sends a chunked POST whose first chunk has `bytes` bytes, never ends it, and returns the status line. */
function postChunkedWithoutEnd(port: number, token: string, bytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 5 s'));
    }, 5000);
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString();
      const lineEnd = received.indexOf('\r\n');
      if (lineEnd < 0) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(received.slice(0, lineEnd));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(
      `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
        `Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `${bytes.toString(16)}\r\n[${' '.repeat(bytes - 1)}\r\n`,
    );
  });
}
