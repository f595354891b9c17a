import { randomBytes } from 'node:crypto';
import { createKeyLayout, type KeyLayout, type RedisClient } from '@agentwire/redis';
import {
  type Stack,
  TestWsClient,
  type WsFrame,
  sleep,
  startStack,
  waitUntil,
} from '@agentwire/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/**
 * Stall detection end to end (protocol.md section 9): the buffer's emit-stalls
 * job, the sequencer and the edge. A run with no event for RUN_STALL_MS gets
 * one critical run_stalled with a seq, replayed like any critical event.
 */
const RUN_STALL_MS = 1500;
/** The job runs every RUN_STALL_MS / 4; this leaves room for it, the sequencer and a loaded machine. */
const STALL_WAIT_MS = RUN_STALL_MS + 6000;
/** Long enough for several more job runs: a second run_stalled would show by then. */
const QUIET_MS = 2 * RUN_STALL_MS + 1000;

function uniqueUser(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

function stallsOf(client: TestWsClient, runId: string): WsFrame[] {
  return client.events().filter((frame) => frame.name === 'run_stalled' && frame.runId === runId);
}

/** Waits for the run's `n`-th run_stalled on this connection. */
async function nthStall(client: TestWsClient, runId: string, n: number): Promise<WsFrame> {
  await waitUntil(() => stallsOf(client, runId).length >= n, STALL_WAIT_MS);
  return stallsOf(client, runId)[n - 1] as WsFrame;
}

async function connect(
  stack: Stack,
  userId: string,
  hello: Record<string, unknown>,
): Promise<{ client: TestWsClient; welcome: WsFrame }> {
  const client = await TestWsClient.connect(stack.edges[0]?.wsUrl as string);
  const welcome = await client.hello(await stack.token(userId), hello);
  return { client, welcome };
}

async function ingestOk(stack: Stack, events: unknown[]): Promise<void> {
  const result = await stack.ingest(events);
  expect(result.status, JSON.stringify(result.body)).toBe(202);
}

let counter = 0;
const agentStarted = (userId: string, runId: string) => ({
  id: `start-${++counter}`,
  userId,
  runId,
  name: 'agent_started',
});
const token = (userId: string, runId: string, text: string) => ({
  id: `tok-${++counter}`,
  userId,
  runId,
  name: 'token',
  stream: 'answer',
  append: text,
});

function keyLayoutOf(stack: Stack): KeyLayout {
  return createKeyLayout(stack.env.KEY_PREFIX as string, Number(stack.env.SHARDS));
}

describe('run_stalled (one buffer)', () => {
  let stack: Stack;
  const clients: TestWsClient[] = [];

  beforeAll(async () => {
    stack = await startStack({ env: { RUN_STALL_MS: String(RUN_STALL_MS), LOG_LEVEL: 'warn' } });
  }, 60_000);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('the job finds a silent running run in Redis and its run_stalled is sequenced once', async () => {
    // The run as the sequencer leaves it (runs-plan.md), written here directly:
    // only the job, the sequencing path and the delivery are under test.
    const userId = uniqueUser('seeded');
    const keys = keyLayoutOf(stack);
    const redis: RedisClient = stack.redis.createClient();
    const updated = Date.now() - RUN_STALL_MS;
    try {
      await redis.hset(keys.run(userId, 'r1'), { status: 'running', started: updated, updated });
      await redis.zadd(keys.shardRunning(keys.shardOf(userId)), updated, `${userId}|r1`);
    } finally {
      redis.disconnect();
    }
    const { client } = await connect(stack, userId, { lastSeq: 0 });
    clients.push(client);

    const stall = await nthStall(client, 'r1', 1);
    expect(stall).toMatchObject({
      type: 'event',
      seq: 1,
      id: 'run_stalled:r1:1',
      critical: true,
      name: 'run_stalled',
      runId: 'r1',
      data: { lastEventTs: updated },
    });
    await sleep(QUIET_MS);
    expect(stallsOf(client, 'r1')).toHaveLength(1);
  }, 30_000);

  it('stalls a silent run once per silence, with a seq, replayed on resume; an event makes it running again', async () => {
    const userId = uniqueUser('silent');
    const runId = 'r7';
    const { client: live } = await connect(stack, userId, { lastSeq: 0 });
    clients.push(live);

    await ingestOk(stack, [agentStarted(userId, runId), token(userId, runId, 'Hel')]);
    // Appends spread over more than RUN_STALL_MS keep the run from stalling.
    for (const text of ['lo', ' wo', 'rl', 'd']) {
      await sleep(RUN_STALL_MS / 3);
      await ingestOk(stack, [token(userId, runId, text)]);
    }
    // Nor does the silence before RUN_STALL_MS has passed.
    await sleep(RUN_STALL_MS - 300);
    expect(stallsOf(live, runId)).toEqual([]);

    const first = await nthStall(live, runId, 1);
    expect(first).toMatchObject({
      type: 'event',
      seq: 2,
      id: `run_stalled:${runId}:1`,
      critical: true,
      name: 'run_stalled',
      runId,
    });
    const lastEventTs = (first.data as { lastEventTs: unknown }).lastEventTs;
    expect(typeof lastEventTs).toBe('number');
    expect((first.ts as number) - (lastEventTs as number)).toBeGreaterThanOrEqual(RUN_STALL_MS);
    await sleep(QUIET_MS);
    expect(stallsOf(live, runId)).toHaveLength(1);

    // A client that processed seq 1 resumes and gets the stall replayed, as it was sent live.
    const { client: resumed, welcome } = await connect(stack, userId, {
      lastSeq: 1,
      epoch: (live.frames.find((frame) => frame.type === 'welcome') as WsFrame).epoch,
    });
    clients.push(resumed);
    expect(welcome).toMatchObject({ resumed: true, latestSeq: 2 });
    const replayed = await nthStall(resumed, runId, 1);
    expect(replayed).toEqual(first);

    // The next event makes the run running again; the next silence is the second stall.
    await ingestOk(stack, [token(userId, runId, '!')]);
    const second = await nthStall(live, runId, 2);
    expect(second).toMatchObject({ seq: 3, id: `run_stalled:${runId}:2`, runId });
    await sleep(QUIET_MS);
    expect(stallsOf(live, runId)).toHaveLength(2);
    expect(stallsOf(resumed, runId).map((frame) => frame.seq)).toEqual([2, 3]);
  }, 60_000);

  it('never stalls a run that ended', async () => {
    const userId = uniqueUser('ended');
    const { client } = await connect(stack, userId, { lastSeq: 0 });
    clients.push(client);

    await ingestOk(stack, [
      agentStarted(userId, 'done'),
      token(userId, 'done', 'answer'),
      { id: `end-${++counter}`, userId, runId: 'done', name: 'agent_completed' },
    ]);
    await client.waitForEvents(3);
    await sleep(RUN_STALL_MS + QUIET_MS);
    expect(stallsOf(client, 'done')).toEqual([]);
  }, 30_000);
});

describe('run_stalled across a buffer failover', () => {
  const LEASE_TTL_MS = 4000;
  let stack: Stack | undefined;
  const clients: TestWsClient[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await stack?.stop();
    stack = undefined;
  });

  it('a stall emitted while the shard owner is frozen, then SIGKILLed, reaches the client once, with a seq', async () => {
    const s = await startStack({
      buffers: 2,
      env: {
        RUN_STALL_MS: String(RUN_STALL_MS),
        LEASE_TTL_MS: String(LEASE_TTL_MS),
        LOG_LEVEL: 'warn',
      },
    });
    stack = s;
    const keys = keyLayoutOf(s);
    const redis: RedisClient = s.redis.createClient();
    try {
      const userId = uniqueUser('failover');
      const runId = 'r9';
      const shard = keys.shardOf(userId);
      // Both replicas hold leases once the owner of the user's shard is known.
      await waitUntil(async () => (await redis.get(keys.lease(shard))) !== null, 10_000);
      const { client } = await connect(s, userId, { lastSeq: 0 });
      clients.push(client);
      await ingestOk(s, [agentStarted(userId, runId), token(userId, runId, 'partial')]);
      await client.waitForEvents(2);

      // Freeze the shard's owner: the other replica's job emits the stall
      // into the shard's ingest stream while no one sequences it.
      const lease = (await redis.get(keys.lease(shard))) as string;
      const owner = s.buffers[Number(/^buffer-(\d+)\|/.exec(lease)?.[1])];
      expect(owner).toBeDefined();
      owner?.signal('SIGSTOP');
      await waitUntil(async () => {
        const entries = await redis.xrange(keys.ingest(shard), '-', '+');
        return entries.some(([, fields]) => fields.includes(`run_stalled:${runId}:1`));
      }, STALL_WAIT_MS);
      expect(stallsOf(client, runId)).toEqual([]);
      await owner?.kill();

      // The next owner takes the shard after the lease expires and sequences it.
      const stall = await nthStall(client, runId, 1);
      expect(stall).toMatchObject({ seq: 2, id: `run_stalled:${runId}:1`, critical: true });
      await sleep(QUIET_MS);
      expect(stallsOf(client, runId)).toHaveLength(1);

      const { client: resumed } = await connect(s, userId, {
        lastSeq: 1,
        epoch: (client.frames.find((frame) => frame.type === 'welcome') as WsFrame).epoch,
      });
      clients.push(resumed);
      expect(await nthStall(resumed, runId, 1)).toEqual(stall);
    } finally {
      redis.disconnect();
    }
  }, 60_000);

  it('keeps stalling runs after the replica running the jobs is SIGKILLed', async () => {
    const s = await startStack({
      buffers: 2,
      env: { RUN_STALL_MS: String(RUN_STALL_MS), LOG_LEVEL: 'warn' },
    });
    stack = s;
    const userId = uniqueUser('killed');
    const { client } = await connect(s, userId, { lastSeq: 0 });
    clients.push(client);
    await ingestOk(s, [agentStarted(userId, 'a')]);
    await client.waitForEvents(1);
    // Whichever replica held the job or the shard: one goes, mid-silence.
    await sleep(RUN_STALL_MS / 2);
    await s.buffers[0]?.kill();

    expect(await nthStall(client, 'a', 1)).toMatchObject({ seq: 2, id: 'run_stalled:a:1' });
    // A second run on the survivor alone.
    await ingestOk(s, [agentStarted(userId, 'b')]);
    expect(await nthStall(client, 'b', 1)).toMatchObject({ seq: 4, id: 'run_stalled:b:1' });
    await sleep(QUIET_MS);
    expect(stallsOf(client, 'a')).toHaveLength(1);
    expect(stallsOf(client, 'b')).toHaveLength(1);
  }, 60_000);
});
