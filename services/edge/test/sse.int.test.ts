import { createKeyLayout } from '@agentwire/redis';
import {
  sleep,
  SseRefusedError,
  startStack,
  TestSseClient,
  TestWsClient,
  waitUntil,
  type ServiceProcess,
  type Stack,
} from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectUser,
  ingestEvent,
  ingestOk,
  range,
  seqsOf,
  uniqueUser,
} from './support/edge-test-kit.js';

/**
 * GET /v1/sse and its HTTP companions (protocol.md section 10) on real
 * edges: the same stream as a WebSocket, with the same order, resume,
 * limits, presence and drain.
 */
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ edges: 2 });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function openSse(
  edge: ServiceProcess,
  userId: string,
  params: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<TestSseClient> {
  const query = new URLSearchParams(params).toString();
  return TestSseClient.open(`${edge.url}/v1/sse${query === '' ? '' : `?${query}`}`, {
    headers: { authorization: `Bearer ${await stack.token(userId)}`, ...headers },
  });
}

async function refusal(promise: Promise<unknown>): Promise<SseRefusedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof SseRefusedError))
    throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

async function metric(edge: ServiceProcess, name: string): Promise<number> {
  const text = await (await fetch(`${edge.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function presence(userId: string): Promise<number> {
  const res = await fetch(`${stack.edges[0]!.url}/v1/users/${userId}/presence`, {
    headers: { authorization: `Bearer ${stack.env.INGEST_TOKEN}` },
  });
  return ((await res.json()) as { connections: number }).connections;
}

describe('the same stream as a WebSocket', () => {
  it('SSE and WebSocket of one user on different edges receive identical sequences', async () => {
    const user = uniqueUser('same');
    const ws = await connectUser(stack, user, { lastSeq: 0 }, 0);
    const sse = await openSse(stack.edges[1]!, user, { lastSeq: '0' });
    await sse.waitFor((c) => c.messages.length >= 1);
    const events = range(1, 40).map((n) =>
      ingestEvent(user, { name: n % 3 === 0 ? 'token_delta' : 'tool_executing' }),
    );
    await ingestOk(stack, events.slice(0, 20), 0);
    await ingestOk(stack, events.slice(20), 1);
    await ws.client.waitForEvents(40, 10_000);
    await sse.waitFor((c) => c.events().length >= 40, 10_000, '40 events over SSE');

    expect(sse.events().map((e) => e.id)).toEqual(ws.client.events().map((e) => e.id));
    expect(sse.seqs()).toEqual(seqsOf(ws.client));
    // Framing: welcome first; critical events carry id <epoch>:<seq>, others no id.
    const [welcome, ...rest] = sse.messages;
    expect(welcome?.event).toBe('welcome');
    expect(welcome?.frame).toMatchObject({ type: 'welcome', userId: user, node: 'edge-1' });
    const epoch = welcome?.frame.epoch as string;
    for (const message of rest.filter((m) => m.event === 'event')) {
      expect(message.id).toBe(
        message.frame.critical === true ? `${epoch}:${String(message.frame.seq)}` : undefined,
      );
    }
    await Promise.all([ws.client.close(), sse.close()]);
  });

  it('resumes with Last-Event-ID after a drop: nothing lost, nothing twice', async () => {
    const user = uniqueUser('resume');
    const first = await openSse(stack.edges[0]!, user, { lastSeq: '0' });
    await ingestOk(
      stack,
      range(1, 10).map(() => ingestEvent(user)),
    );
    await first.waitForCritical(10);
    await first.close();
    await ingestOk(
      stack,
      range(1, 10).map(() => ingestEvent(user)),
    );
    // What EventSource does by itself: same URL, Last-Event-ID header (which wins over ?lastSeq).
    const second = await openSse(
      stack.edges[1]!,
      user,
      { lastSeq: '0' },
      { 'last-event-id': first.lastEventId() as string },
    );
    await second.waitForCritical(10);
    await ingestOk(
      stack,
      range(1, 5).map(() => ingestEvent(user)),
    );
    await second.waitForCritical(15);
    await sleep(200);
    expect(first.seqs()).toEqual(range(1, 10));
    expect(second.seqs()).toEqual(range(11, 25));
    expect(second.messages[0]?.frame).toMatchObject({ type: 'welcome', resumed: true });
    await second.close();
  });

  it('resumes on another edge after an edge SIGKILL during publishing', async () => {
    const victim = await stack.startEdge();
    const user = uniqueUser('kill');
    const first = await openSse(victim, user, { lastSeq: '0' });
    const total = 60;
    const publishing = (async () => {
      for (let i = 0; i < total / 5; i++) {
        await ingestOk(
          stack,
          range(1, 5).map(() => ingestEvent(user)),
        );
        await sleep(20);
      }
    })();
    await first.waitForCritical(10);
    await victim.kill();
    await first.ended;
    await publishing;
    const second = await openSse(
      stack.edges[0]!,
      user,
      {},
      {
        'last-event-id': first.lastEventId() as string,
      },
    );
    await second.waitForCritical(total - first.seqs().length);
    await sleep(200);
    expect([...first.seqs(), ...second.seqs()]).toEqual(range(1, total));
    await second.close();
  });

  it('connect/live race: an SSE stream opened during publishing sees 1..N exactly (40 runs)', async () => {
    const runs = 40;
    const parallel = 10;
    const perRun = 6;
    let completed = 0;
    for (let start = 0; start < runs; start += parallel) {
      await Promise.all(
        range(1, parallel).map(async (k) => {
          const user = uniqueUser(`sserace${start + k}`);
          const publishing = (async () => {
            for (let i = 0; i < perRun; i++) await ingestOk(stack, ingestEvent(user), (i + k) % 2);
          })();
          await sleep(Math.floor(Math.random() * 12));
          const sse = await openSse(stack.edges[k % 2]!, user, { lastSeq: '0' });
          await publishing;
          await ingestOk(stack, ingestEvent(user, { id: `marker-${user}` }));
          await sse.waitFor((c) => c.events().some((e) => e.id === `marker-${user}`));
          expect(sse.seqs()).toEqual(range(1, perRun + 1));
          await sse.close();
          completed++;
        }),
      );
    }
    expect(completed).toBe(runs);
  }, 60_000);
});

describe('limits, presence, acks, slow readers and drain', () => {
  it('counts SSE streams toward the per-user limit and presence (429 past it)', async () => {
    const user = uniqueUser('limit');
    const streams = await Promise.all(range(1, 3).map((n) => openSse(stack.edges[n % 2]!, user)));
    const sockets = await Promise.all(range(1, 2).map((n) => connectUser(stack, user, {}, n % 2)));
    await Promise.all(streams.map((s) => s.waitFor((c) => c.messages.length >= 1)));
    expect(await presence(user)).toBe(5);
    const refused = await refusal(openSse(stack.edges[0]!, user));
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'limit_reached' });
    await Promise.all([...streams.map((s) => s.close()), ...sockets.map((s) => s.client.close())]);
    await waitUntil(async () => (await presence(user)) === 0, 5000, 50, 'presence back to 0');
  });

  it('POST /v1/ack confirms the stream and moves the acked position; 400 above latestSeq', async () => {
    const user = uniqueUser('ack');
    const edge = stack.edges[0]!;
    const sse = await openSse(edge, user, { lastSeq: '0' });
    await ingestOk(
      stack,
      range(1, 4).map(() => ingestEvent(user)),
    );
    await sse.waitForCritical(4);
    const before = await metric(edge, 'aw_edge_acks_confirmed_total');
    const ack = (seq: unknown) =>
      fetch(`${edge.url}/v1/ack`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ seq }),
      });
    const token = await stack.token(user);
    expect((await ack(4)).status).toBe(204);
    expect((await ack(5)).status).toBe(400);
    expect((await ack(1.5)).status).toBe(400);
    expect((await ack(-1)).status).toBe(400);
    expect(await metric(edge, 'aw_edge_acks_confirmed_total')).toBe(before + 4);
    const keys = createKeyLayout(stack.env.KEY_PREFIX ?? '', Number(stack.env.SHARDS));
    const redis = stack.redis.createClient();
    try {
      await waitUntil(async () => (await redis.hget(keys.userMeta(user), 'acked')) === '4', 5000);
    } finally {
      redis.disconnect();
    }
    await sse.close();
  });

  it('drops a paused SSE reader past the hard limit while a fast client keeps its latency; it resumes', async () => {
    const edge = await stack.startEdge({
      SEND_BUFFER_SOFT_BYTES: '16384',
      SEND_BUFFER_HARD_BYTES: '65536',
    });
    const slowUser = uniqueUser('slowsse');
    const fastUser = uniqueUser('fast');
    const slow = await openSse(edge, slowUser, { lastSeq: '0' });
    await slow.waitFor((c) => c.messages.length >= 1);
    const fast = await TestWsClient.connect(edge.wsUrl);
    await fast.hello(await stack.token(fastUser));
    const latencies: number[] = [];
    fast.socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type: string; ts?: number };
      if (frame.type === 'event' && frame.ts !== undefined) latencies.push(Date.now() - frame.ts);
    });
    slow.pause();
    // Small events: many fall between the soft and the hard limit, so some
    // non-critical ones are dropped whatever the timing.
    const pad = 'p'.repeat(2_000);
    for (let batch = 0; batch < 300; batch++) {
      await ingestOk(stack, [
        ...range(1, 20).map((n) =>
          ingestEvent(slowUser, {
            name: n % 4 === 0 ? 'token_delta' : 'tool_executing',
            data: pad,
          }),
        ),
        ingestEvent(fastUser),
      ]);
    }
    await waitUntil(
      async () => (await metric(edge, 'aw_edge_slow_consumer_closes_total')) >= 1,
      15_000,
    );
    expect(await metric(edge, 'aw_edge_noncritical_dropped_total')).toBeGreaterThan(0);
    await fast.waitForEvents(20, 10_000);
    expect(Math.max(...latencies)).toBeLessThan(2000);
    slow.resume();
    await slow.ended;
    const received = slow.seqs();
    expect(received).toEqual(range(1, received.length));
    const total = 300 * 15; // 300 batches of 20, one in four non-critical
    // The replay of what it missed (6 MB) may find this reader slow too on a
    // busy machine: it is then ended again and resumes again, as a client does.
    const resumedSeqs: number[] = [];
    let lastEventId = slow.lastEventId() as string;
    for (let resumes = 0; resumes < 5 && received.length + resumedSeqs.length < total; resumes++) {
      const resumed = await openSse(
        stack.edges[0]!,
        slowUser,
        {},
        { 'last-event-id': lastEventId },
      );
      await resumed
        .waitForCritical(total - received.length - resumedSeqs.length, 20_000)
        .catch(() => undefined);
      resumedSeqs.push(...resumed.seqs());
      lastEventId = resumed.lastEventId() ?? lastEventId;
      await resumed.close();
    }
    expect(resumedSeqs).toEqual(range(received.length + 1, total));
    await fast.close();
    await edge.stop();
  }, 60_000);

  it('keeps the stream intact while a paused reader backs it up, and delivers its tail without a heartbeat', async () => {
    // Limits high enough that nothing is dropped: what is checked is the bytes.
    const edge = await stack.startEdge({
      HEARTBEAT_MS: '120000',
      SEND_BUFFER_SOFT_BYTES: String(32 * 1024 * 1024),
      SEND_BUFFER_HARD_BYTES: String(64 * 1024 * 1024),
    });
    const users = range(1, 5).map(() => uniqueUser('paused'));
    const streams = await Promise.all(users.map((user) => openSse(edge, user, { lastSeq: '0' })));
    await Promise.all(streams.map((s) => s.waitFor((c) => c.messages.length >= 1)));
    streams.forEach((s) => s.pause());
    // Four events of about 5 KB per user and POST: uWS corks three of them and
    // must flush that before the fourth, the write that lost bytes once the
    // socket filled (about 5 MB per stream fills loopback's buffers).
    const pad = 'p'.repeat(5_000);
    const posts = 260;
    for (let post = 0; post < posts; post++) {
      await ingestOk(
        stack,
        users.flatMap((user) => range(1, 4).map(() => ingestEvent(user, { data: pad }))),
      );
    }
    streams.forEach((s) => s.resume());
    await Promise.all(
      streams.map((s) => s.waitForCritical(posts * 4, 20_000).catch(() => undefined)),
    );
    for (const s of streams) {
      expect(s.isEnded).toBe(false);
      expect(s.seqs()).toEqual(range(1, posts * 4));
    }
    await Promise.all(streams.map((s) => s.close()));
    await edge.stop();
  }, 90_000);

  it('sends heartbeats, refuses streams past the node limit (429) and drains with retry: and event: reconnect', async () => {
    const edge = await stack.startEdge({
      MAX_CONNECTIONS: '2',
      DRAIN_WINDOW_MS: '400',
      HEARTBEAT_MS: '300',
    });
    const user = uniqueUser('drain');
    const a = await openSse(edge, user, { lastSeq: '0' });
    const b = await openSse(edge, uniqueUser('other'));
    // A quiet stream hears heartbeats.
    await b.waitFor((c) => c.messages.some((m) => m.event === 'heartbeat'), 5000, 'a heartbeat');
    const refused = await refusal(openSse(edge, uniqueUser('third')));
    expect(refused.status).toBe(429);
    await ingestOk(
      stack,
      range(1, 3).map(() => ingestEvent(user)),
    );
    await a.waitForCritical(3);
    edge.signal('SIGTERM');
    await Promise.all([a.ended, b.ended]);
    for (const stream of [a, b]) {
      const last = stream.messages.at(-1);
      expect(last?.event).toBe('reconnect');
      expect(last?.retry).toBe(last?.frame.afterMs);
      expect(last?.retry).toBeLessThan(400);
    }
    expect(a.seqs()).toEqual([1, 2, 3]);
    await edge.exited;
  });
});

describe('GET /v1/history and POST /v1/publish', () => {
  it('pages through retained events with after and limit', async () => {
    const user = uniqueUser('hist');
    const token = await stack.token(user);
    const history = async (query: string) => {
      const res = await fetch(`${stack.edges[1]!.url}/v1/history?${query}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const empty = await history('');
    expect(empty).toEqual({
      status: 200,
      body: { epoch: '', oldestSeq: 0, latestSeq: 0, resumed: true, events: [] },
    });
    await ingestOk(
      stack,
      range(1, 25).map(() => ingestEvent(user)),
    );
    await waitUntil(async () => (await history('after=24')).body.latestSeq === 25, 5000);
    const seqs: number[] = [];
    let after = 0;
    let epoch = '';
    for (let page = 0; page < 5 && after < 25; page++) {
      const { body } = await history(`after=${after}&limit=10${epoch ? `&epoch=${epoch}` : ''}`);
      const events = body.events as Array<{ seq: number; type: string }>;
      expect(events.every((e) => e.type === 'event')).toBe(true);
      seqs.push(...events.map((e) => e.seq));
      after = events.at(-1)?.seq ?? after;
      epoch = body.epoch as string;
      expect(body.resumed).toBe(true);
    }
    expect(seqs).toEqual(range(1, 25));
    const other = await history('after=5&epoch=another');
    expect(other.body).toMatchObject({ resumed: false, latestSeq: 25 });
    expect((other.body.events as Array<{ seq: number }>)[0]?.seq).toBe(1);
    const ahead = await history('after=99');
    expect(ahead.body).toMatchObject({ resumed: false, events: [] });
    for (const bad of ['limit=0', 'limit=1001', 'after=-1', 'after=x', 'epoch=a%20b']) {
      expect((await history(bad)).status, bad).toBe(400);
    }
  });

  it('publishes with the same idempotency and a per-user rate limit', async () => {
    const edge = await stack.startEdge({ UPSTREAM_RATE_PER_SEC: '1', UPSTREAM_BURST: '2' });
    const user = uniqueUser('pub');
    const token = await stack.token(user);
    const publish = (body: unknown) =>
      fetch(`${edge.url}/v1/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    const id = `m-${user}`;
    const first = await publish({ id, threadId: 't1', data: { text: 'hi' } });
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ accepted: true, id });
    expect((await publish({ id, threadId: 't1', data: { text: 'hi' } })).status).toBe(202);
    expect((await publish({ data: 1 })).status).toBe(400);
    const keys = createKeyLayout(stack.env.KEY_PREFIX ?? '', Number(stack.env.SHARDS));
    const redis = stack.redis.createClient();
    try {
      const entries = await redis.xrange(keys.upstream(), '-', '+');
      expect(entries.filter(([, fields]) => fields.includes(id))).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
    const limited = await publish({ id: `${id}-2`, data: 2 });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: 'rate_limited' });
    await edge.stop();
  });
});
