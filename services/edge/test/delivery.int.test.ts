import { createKeyLayout } from '@agentwire/redis';
import { sleep, startStack, TestWsClient, waitUntil, type Stack } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectUser,
  ingestEvent,
  ingestOk,
  range,
  seqsOf,
  uniqueUser,
} from './support/edge-test-kit.js';

const REPLAY_PAGE_SIZE = 50;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ edges: 2, env: { REPLAY_PAGE_SIZE: String(REPLAY_PAGE_SIZE) } });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('live delivery', () => {
  it('isolates 50 users: each connection gets exactly its own events, seq 1..5', async () => {
    const users = range(1, 50).map((n) => uniqueUser(`iso${n}`));
    const clients = await Promise.all(users.map((user, i) => connectUser(stack, user, {}, i % 2)));
    // One interleaved batch: user order inside it is the ingest order.
    const events = range(1, 5).flatMap((n) =>
      users.map((user) => ingestEvent(user, { id: `${user}-e${n}` })),
    );
    await ingestOk(stack, events);
    await Promise.all(clients.map(({ client }) => client.waitForEvents(5, 10_000)));
    await sleep(200);
    clients.forEach(({ client }, i) => {
      const user = users[i] as string;
      expect(client.events().map((e) => e.id)).toEqual(range(1, 5).map((n) => `${user}-e${n}`));
      expect(seqsOf(client)).toEqual(range(1, 5));
    });
    await Promise.all(clients.map(({ client }) => client.close()));
  });

  it('delivers everything to every connection of a user, on one node and across nodes', async () => {
    const user = uniqueUser('multi');
    const conns = await Promise.all([
      connectUser(stack, user, {}, 0),
      connectUser(stack, user, {}, 0),
      connectUser(stack, user, {}, 1),
    ]);
    await ingestOk(stack, [
      ingestEvent(user),
      ingestEvent(user, { name: 'token_delta' }),
      ingestEvent(user),
    ]);
    await ingestOk(stack, ingestEvent(user), 1);
    for (const { client } of conns) {
      const events = await client.waitForEvents(4);
      expect(events.map((e) => e.seq ?? null)).toEqual([1, null, 2, 3]);
    }
    await Promise.all(conns.map(({ client }) => client.close()));
  });
});

describe('resume', () => {
  it('resumes on the other edge with exactly the missed events, in order', async () => {
    const user = uniqueUser('resume');
    const first = await connectUser(stack, user, { lastSeq: 0 }, 0);
    await ingestOk(
      stack,
      range(1, 3).map(() => ingestEvent(user)),
    );
    await first.client.waitForEvents(3);
    await first.client.close();
    await ingestOk(
      stack,
      range(1, 4).map(() => ingestEvent(user)),
    );
    // 202 means durable in the ingest stream; the seqs are assigned a moment later.
    await waitForLatestSeq(user, 7);

    const second = await connectUser(stack, user, { lastSeq: 3, epoch: first.welcome.epoch }, 1);
    expect(second.welcome).toMatchObject({
      epoch: first.welcome.epoch,
      latestSeq: 7,
      oldestSeq: 1,
      resumed: true,
      node: 'edge-1',
    });
    await ingestOk(stack, ingestEvent(user));
    await second.client.waitForEvents(5);
    expect(seqsOf(second.client)).toEqual([4, 5, 6, 7, 8]);
    await second.client.close();
  });

  it('starts live without lastSeq: latestSeq is the position, nothing is replayed', async () => {
    const user = uniqueUser('live');
    await ingestOk(stack, [ingestEvent(user), ingestEvent(user)]);
    await waitForLatestSeq(user, 2);
    const { client, welcome } = await connectUser(stack, user);
    expect(welcome).toMatchObject({ latestSeq: 2, oldestSeq: 1, resumed: true });
    await ingestOk(stack, ingestEvent(user));
    await client.waitForEvents(1);
    await sleep(100);
    expect(seqsOf(client)).toEqual([3]);
    await client.close();
  });

  it('replays everything retained with lastSeq 0, then goes live', async () => {
    const user = uniqueUser('zero');
    await ingestOk(stack, [ingestEvent(user), ingestEvent(user)]);
    await waitForLatestSeq(user, 2);
    const { client, welcome } = await connectUser(stack, user, { lastSeq: 0 });
    expect(welcome).toMatchObject({ latestSeq: 2, resumed: true });
    await client.waitForEvents(2);
    await ingestOk(stack, ingestEvent(user));
    await client.waitForEvents(3);
    expect(seqsOf(client)).toEqual([1, 2, 3]);
    await client.close();
  });

  it('answers resumed:false to a lastSeq above latestSeq and continues after latestSeq', async () => {
    const user = uniqueUser('above');
    await ingestOk(stack, [ingestEvent(user), ingestEvent(user)]);
    await waitForLatestSeq(user, 2);
    const { client, welcome } = await connectUser(stack, user, { lastSeq: 50 });
    expect(welcome).toMatchObject({ latestSeq: 2, resumed: false });
    await ingestOk(stack, ingestEvent(user));
    await client.waitForEvents(1);
    await sleep(100);
    expect(seqsOf(client)).toEqual([3]);
    await client.close();
  });

  it('gives a new epoch when a client saw seqs its history lost (lastSeq above latestSeq, same epoch)', async () => {
    const user = uniqueUser('lost');
    await ingestOk(stack, [ingestEvent(user), ingestEvent(user)]);
    await waitForLatestSeq(user, 2);
    const first = await connectUser(stack, user, { lastSeq: 0 });
    await first.client.waitForEvents(2);
    await first.client.close();
    // As after a failover that dropped seqs 3..5 this client had already received.
    const { client, welcome } = await connectUser(stack, user, {
      lastSeq: 5,
      epoch: first.welcome.epoch,
    });
    expect(welcome.epoch).not.toBe(first.welcome.epoch);
    expect(welcome).toMatchObject({ latestSeq: 2, oldestSeq: 1, resumed: false });
    // The whole history again, under the new epoch: the client resyncs.
    await client.waitForEvents(2);
    expect(seqsOf(client)).toEqual([1, 2]);
    // Every other client of the user holding the old epoch resyncs too.
    const other = await connectUser(stack, user, { lastSeq: 2, epoch: first.welcome.epoch }, 1);
    expect(other.welcome).toMatchObject({ epoch: welcome.epoch, resumed: false });
    await Promise.all([client.close(), other.client.close()]);
  });

  it('replays the current history from oldestSeq when the hello epoch is stale', async () => {
    const user = uniqueUser('epoch');
    await ingestOk(
      stack,
      range(1, 3).map(() => ingestEvent(user)),
    );
    await waitForLatestSeq(user, 3);
    const { client, welcome } = await connectUser(stack, user, {
      lastSeq: 2,
      epoch: 'stale-epoch',
    });
    expect(welcome).toMatchObject({ latestSeq: 3, oldestSeq: 1, resumed: false });
    expect(welcome.epoch).not.toBe('stale-epoch');
    await client.waitForEvents(3);
    expect(seqsOf(client)).toEqual([1, 2, 3]);
    await client.close();
  });

  it('sends reconnect and closes 4503 when the history is recreated under a live connection', async () => {
    const user = uniqueUser('recreated');
    const { client, welcome } = await connectUser(stack, user);
    await ingestOk(stack, ingestEvent(user));
    await client.waitForEvents(1);
    // Lose the stored history (what an expired or restored Redis looks like).
    const keys = createKeyLayout(stack.env.KEY_PREFIX ?? '', Number(stack.env.SHARDS));
    const redis = stack.redis.createClient();
    try {
      await redis.del(keys.userMeta(user));
      await redis.del(keys.userLog(user));
    } finally {
      redis.disconnect();
    }
    await ingestOk(stack, ingestEvent(user));
    const closed = await client.closed;
    expect(closed.code).toBe(4503);
    expect(client.frames.at(-1)).toEqual({ type: 'reconnect', afterMs: 0 });

    const again = await connectUser(stack, user, { lastSeq: 1, epoch: welcome.epoch }, 1);
    expect(again.welcome.epoch).not.toBe(welcome.epoch);
    expect(again.welcome).toMatchObject({ resumed: false, latestSeq: 1, oldestSeq: 1 });
    await again.client.waitForEvents(1);
    expect(seqsOf(again.client)).toEqual([1]);
    await again.client.close();
  });

  it('replays many pages while live events keep arriving, without gap or duplicate', async () => {
    const user = uniqueUser('pages');
    const backlog = 4 * REPLAY_PAGE_SIZE + 17;
    await ingestOk(
      stack,
      range(1, backlog).map(() => ingestEvent(user)),
    );
    await waitForLatestSeq(user, backlog);
    const live = 60;
    const publishing = (async () => {
      for (let i = 0; i < live / 5; i++) {
        await ingestOk(
          stack,
          range(1, 5).map(() => ingestEvent(user)),
          i % 2,
        );
      }
    })();
    const { client } = await connectUser(stack, user, { lastSeq: 0 }, 1);
    await publishing;
    await client.waitForEvents(backlog + live, 15_000);
    await ingestOk(stack, ingestEvent(user, { id: `end-${user}` }));
    await client.waitFor((frame) => frame.id === `end-${user}`);
    expect(seqsOf(client)).toEqual(range(1, backlog + live + 1));
    await client.close();
  });
});

describe('connect/live race', () => {
  it('a client connecting with lastSeq 0 during publishing sees 1..N exactly (200 runs)', async () => {
    const runs = 200;
    const parallel = 10;
    const perRun = 6;
    const deadline = Date.now() + 100_000;
    let completed = 0;
    for (let start = 0; start < runs && Date.now() < deadline; start += parallel) {
      await Promise.all(
        range(1, parallel).map(async (k) => {
          const user = uniqueUser(`race${start + k}`);
          const publishing = (async () => {
            for (let i = 0; i < perRun; i++) await ingestOk(stack, ingestEvent(user), (i + k) % 2);
          })();
          // Land the hello somewhere inside the publishing window.
          await sleep(Math.floor(Math.random() * 12));
          const { client } = await connectUser(stack, user, { lastSeq: 0 }, k % 2);
          await publishing;
          // Anything still in flight for seq <= perRun is forwarded before the marker.
          await ingestOk(stack, ingestEvent(user, { id: `marker-${user}` }));
          await client.waitFor((frame) => frame.id === `marker-${user}`, 10_000);
          expect(seqsOf(client)).toEqual(range(1, perRun + 1));
          await client.close();
          completed++;
        }),
      );
    }
    expect(completed).toBe(runs);
  }, 120_000);
});

describe('slow consumers', () => {
  it('drops non-critical events, then closes 4408; the client resumes without loss', async () => {
    const edge = await stack.startEdge({
      SEND_BUFFER_SOFT_BYTES: '16384',
      SEND_BUFFER_HARD_BYTES: '65536',
    });
    const user = uniqueUser('slow');
    const client = await TestWsClient.connect(edge.wsUrl);
    const welcome = await client.hello(await stack.token(user), { lastSeq: 0 });
    client.pause();
    // About 12 MB, more than loopback socket buffers absorb, in events small
    // enough that many fall between the soft and the hard limit (some of
    // them non-critical, to be dropped) whatever the timing.
    const pad = 'p'.repeat(2_000);
    for (let batch = 0; batch < 300; batch++) {
      await ingestOk(
        stack,
        range(1, 20).map((n) =>
          ingestEvent(user, { name: n % 4 === 0 ? 'token_delta' : 'tool_executing', data: pad }),
        ),
      );
    }
    const metric = async (name: string): Promise<number> => {
      const text = await (await fetch(`${edge.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(name));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    await waitUntil(async () => (await metric('aw_edge_slow_consumer_closes_total')) >= 1, 15_000);
    expect(await metric('aw_edge_noncritical_dropped_total')).toBeGreaterThan(0);
    client.resume();
    expect((await client.closed).code).toBe(4408);
    const received = seqsOf(client);
    expect(received).toEqual(range(1, received.length));

    const resumed = await connectUser(stack, user, {
      lastSeq: received.length,
      epoch: welcome.epoch,
    });
    const total = 300 * 15; // 6000 events, one in four non-critical
    await resumed.client.waitForEvents(total - received.length, 20_000);
    expect(seqsOf(resumed.client)).toEqual(range(received.length + 1, total));
    await resumed.client.close();
  }, 60_000);
});

describe('inbox and shutdown', () => {
  it('trims its inbox up to what it has read', async () => {
    const user = uniqueUser('trim');
    const { client } = await connectUser(stack, user, {}, 0);
    await ingestOk(
      stack,
      range(1, 400).map(() => ingestEvent(user, { name: 'token_delta' })),
    );
    await client.waitForEvents(400, 10_000);
    // Trims run at most once a second, after a read.
    await sleep(1100);
    await ingestOk(stack, ingestEvent(user));
    await client.waitForEvents(401);
    const keys = createKeyLayout(stack.env.KEY_PREFIX ?? '', Number(stack.env.SHARDS));
    const redis = stack.redis.createClient();
    try {
      // MINID ~ removes whole stream nodes (100 entries each): a short tail may remain.
      await waitUntil(async () => (await redis.xlen(keys.inbox('edge-0'))) <= 200, 5000);
    } finally {
      redis.disconnect();
    }
    await client.close();
  });

  it('on SIGTERM sends reconnect, closes 4503, removes its routes and exits 0', async () => {
    const edge = await stack.startEdge();
    const user = uniqueUser('sigterm');
    const client = await TestWsClient.connect(edge.wsUrl);
    await client.hello(await stack.token(user));
    const exit = await edge.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect((await client.closed).code).toBe(4503);
    // One connection: its reconnect delay is anywhere in the stack's 500 ms drain window.
    const reconnect = client.frames.at(-1);
    expect(reconnect?.type).toBe('reconnect');
    expect(reconnect?.afterMs).toBeGreaterThanOrEqual(0);
    expect(reconnect?.afterMs).toBeLessThan(500);
    const presence = await fetch(`${stack.edges[0]?.url}/v1/users/${user}/presence`, {
      headers: { authorization: `Bearer ${stack.env.INGEST_TOKEN}` },
    });
    expect(await presence.json()).toEqual({ userId: user, connections: 0, nodes: [] });
  });
});

/** Waits until the buffer has sequenced `seq` for the user (ingest is asynchronous past 202). */
async function waitForLatestSeq(user: string, seq: number): Promise<void> {
  const keys = createKeyLayout(stack.env.KEY_PREFIX ?? '', Number(stack.env.SHARDS));
  const redis = stack.redis.createClient();
  try {
    await waitUntil(
      async () => Number(await redis.hget(keys.userMeta(user), 'seq')) >= seq,
      10_000,
    );
  } finally {
    redis.disconnect();
  }
}
