import { createKeyLayout, parseUpstreamFields, type UpstreamMessage } from '@agentwire/redis';
import {
  startRedis,
  startStack,
  TestWsClient,
  waitUntil,
  type ServiceProcess,
  type Stack,
  type WsFrame,
} from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUser, startEdgeOnRedis, uniqueUser } from './support/edge-test-kit.js';

let stack: Stack;
/** An edge with a tiny upstream rate limit: 5 at once, 1 per second. */
let limited: ServiceProcess;

beforeAll(async () => {
  stack = await startStack({ buffers: 0 });
  limited = await stack.startEdge({ UPSTREAM_RATE_PER_SEC: '1', UPSTREAM_BURST: '5' });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

/** Every upstream entry of `userId`, in stream order. */
async function upstreamEntriesOf(userId: string): Promise<UpstreamMessage[]> {
  const keys = createKeyLayout(stack.env.KEY_PREFIX ?? '', Number(stack.env.SHARDS));
  const redis = stack.redis.createClient();
  try {
    const entries = await redis.xrange(keys.upstream(), '-', '+');
    return entries
      .map(([, fields]) => parseUpstreamFields(fields))
      .filter((m): m is UpstreamMessage => m !== undefined && m.userId === userId);
  } finally {
    redis.disconnect();
  }
}

const answerTo =
  (id: string) =>
  (frame: WsFrame): boolean =>
    (frame.type === 'accepted' || frame.type === 'error') && frame.id === id;

async function metric(edge: ServiceProcess, name: string): Promise<number> {
  const text = await (await fetch(`${edge.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('publish (protocol.md section 4)', () => {
  it('answers accepted only once the message is in the upstream stream, tagged with user and connection', async () => {
    const user = uniqueUser('pub');
    const { client, welcome } = await connectUser(stack, user);
    const before = await metric(
      stack.edges[0] as ServiceProcess,
      'aw_edge_upstream_published_total',
    );
    client.send({ type: 'publish', id: 'm-1', threadId: 't3', data: { text: 'hi', n: [1, 2] } });
    expect(await client.waitFor(answerTo('m-1'))).toEqual({ type: 'accepted', id: 'm-1' });
    // Read right after the answer: it was durable before it was sent.
    const entries = await upstreamEntriesOf(user);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      messageId: 'm-1',
      userId: user,
      connectionId: welcome.connectionId,
      threadId: 't3',
    });
    expect(JSON.parse(entries[0]?.data ?? 'null')).toEqual({ text: 'hi', n: [1, 2] });
    expect(entries[0]?.ts).toBeGreaterThan(Date.now() - 10_000);
    expect(await metric(stack.edges[0] as ServiceProcess, 'aw_edge_upstream_published_total')).toBe(
      before + 1,
    );
    await client.close();
  });

  it('accepts a repeated id again but appends it once, also from another connection', async () => {
    const user = uniqueUser('repeat');
    const first = await connectUser(stack, user);
    first.client.send({ type: 'publish', id: 'm-r', data: { v: 1 } });
    await first.client.waitFor(answerTo('m-r'));
    first.client.send({ type: 'publish', id: 'm-r', data: { v: 2 } });
    first.client.send({ type: 'publish', id: 'm-other', data: { v: 3 } });
    await first.client.waitFor(answerTo('m-other'));
    const second = await connectUser(stack, user, {}, 0);
    second.client.send({ type: 'publish', id: 'm-r', data: { v: 4 } });
    expect(await second.client.waitFor(answerTo('m-r'))).toEqual({ type: 'accepted', id: 'm-r' });
    expect(first.client.frames.filter(answerTo('m-r'))).toEqual([
      { type: 'accepted', id: 'm-r' },
      { type: 'accepted', id: 'm-r' },
    ]);
    const entries = await upstreamEntriesOf(user);
    expect(entries.map((e) => [e.messageId, JSON.parse(e.data)])).toEqual([
      ['m-r', { v: 1 }],
      ['m-other', { v: 3 }],
    ]);
    await Promise.all([first.client.close(), second.client.close()]);
  });

  it('takes the user id from the token only; the same id from two users is two messages', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const a = await connectUser(stack, alice);
    const b = await connectUser(stack, bob);
    // Unknown fields are ignored: a frame cannot name another user.
    a.client.send({ type: 'publish', id: 'same', data: 'from alice', userId: bob, u: bob });
    await a.client.waitFor(answerTo('same'));
    b.client.send({ type: 'publish', id: 'same', data: 'from bob' });
    expect(await b.client.waitFor(answerTo('same'))).toEqual({ type: 'accepted', id: 'same' });
    const aliceEntries = await upstreamEntriesOf(alice);
    const bobEntries = await upstreamEntriesOf(bob);
    expect(aliceEntries.map((e) => JSON.parse(e.data))).toEqual(['from alice']);
    expect(bobEntries.map((e) => JSON.parse(e.data))).toEqual(['from bob']);
    expect(aliceEntries[0]?.connectionId).not.toBe(bobEntries[0]?.connectionId);
    await Promise.all([a.client.close(), b.client.close()]);
  });

  it('answers unavailable with the frame id while Redis is down and keeps the socket', async () => {
    const redis = await startRedis();
    let edge: ServiceProcess | undefined;
    try {
      edge = await startEdgeOnRedis(stack, redis.url, {
        NODE_ID: 'edge-upstream-outage',
      });
      const client = await TestWsClient.connect(edge.wsUrl);
      await client.hello(await stack.token(uniqueUser('outage')));
      client.send({ type: 'publish', id: 'before', data: 1 });
      expect(await client.waitFor(answerTo('before'))).toMatchObject({ type: 'accepted' });

      await redis.kill();
      const target = edge;
      await waitUntil(async () => (await fetch(`${target.url}/readyz`)).status === 503, 5000);
      client.send({ type: 'publish', id: 'during', data: 2 });
      expect(await client.waitFor(answerTo('during'))).toMatchObject({
        type: 'error',
        code: 'unavailable',
        id: 'during',
      });

      await redis.restart();
      await waitUntil(async () => (await fetch(`${target.url}/readyz`)).status === 200, 10_000);
      // Same socket: the client retries the id and it is accepted now.
      client.send({ type: 'publish', id: 'during', data: 2 });
      await waitUntil(
        () => client.frames.some((f) => f.type === 'accepted' && f.id === 'during'),
        5000,
      );
      expect(client.closeState).toBeUndefined();
      await client.close();
    } finally {
      await edge?.stop();
      await redis.stop();
    }
  });
});

describe('upstream rate limit', () => {
  it('answers rate_limited with the frame id (nothing appended), then closes 4029 on repeated violations', async () => {
    const user = uniqueUser('flood');
    const client = await TestWsClient.connect(limited.wsUrl);
    await client.hello(await stack.token(user));
    // Burst 5 at 1/s: the first 5 pass, the next 3 are refused; the socket stays.
    for (let i = 1; i <= 8; i++) client.send({ type: 'publish', id: `p-${i}`, data: i });
    // Refusals are answered at once, acceptances after Redis: wait for all eight.
    await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((i) => client.waitFor(answerTo(`p-${i}`))));
    const answers = (ids: string[]): WsFrame[] =>
      ids.map((id) => client.frames.find(answerTo(id)) as WsFrame);
    expect(answers(['p-1', 'p-2', 'p-3', 'p-4', 'p-5']).every((f) => f.type === 'accepted')).toBe(
      true,
    );
    expect(answers(['p-6', 'p-7', 'p-8'])).toEqual(
      ['p-6', 'p-7', 'p-8'].map((id) =>
        expect.objectContaining({ type: 'error', code: 'rate_limited', id }),
      ),
    );
    expect(client.closeState).toBeUndefined();

    // Seven more refusals make ten within the window: the socket closes 4029.
    for (let i = 9; i <= 16; i++) client.send({ type: 'publish', id: `p-${i}`, data: i });
    const closed = await client.closed;
    expect(closed.code).toBe(4029);
    const refused = client.frames.filter((f) => f.type === 'error');
    expect(refused.length).toBeGreaterThanOrEqual(10);
    expect(refused.every((f) => f.code === 'rate_limited')).toBe(true);
    const appended = (await upstreamEntriesOf(user)).map((e) => e.messageId);
    const accepted = client.frames.filter((f) => f.type === 'accepted').map((f) => f.id);
    expect(appended).toEqual(accepted);
    expect(appended.filter((id) => refused.some((f) => f.id === id))).toEqual([]);
    expect(await metric(limited, 'aw_edge_upstream_rejected_total{code="rate_limited"')).toBe(
      refused.length,
    );
  });
});
