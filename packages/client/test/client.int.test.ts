import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyLayout } from '@agentwire/redis';
import { startStack, waitUntil, type Stack } from '@agentwire/testing';
import { memoryStore, UnauthorizedError } from '../src/index.js';
import {
  freshUserId,
  ingestOk,
  observedClient,
  range,
  runEvents,
  tokenDelta,
} from './stack-client.js';

// Small retention so the resync test can lose history with a few dozen events.
const RETENTION_MAX_EVENTS = 20;

describe('client against a real stack (2 edges, 1 buffer)', () => {
  let stack: Stack;
  let urls: string[];

  beforeAll(async () => {
    stack = await startStack({
      edges: 2,
      env: { RETENTION_MAX_EVENTS: String(RETENTION_MAX_EVENTS) },
    });
    urls = stack.edges.map((e) => e.wsUrl);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('delivers live events in order, tokens in between, and acks them', async () => {
    const userId = freshUserId('live');
    const token = await stack.token(userId);
    const o = observedClient({ url: urls[0] as string, getToken: () => token });
    o.client.connect();
    await o.waitForState('connected');
    expect(o.welcomes[0]).toMatchObject({ userId, node: 'edge-0', resumed: true });

    const run = runEvents(userId, 'r1', 6);
    await ingestOk(stack, [
      run[0]!,
      tokenDelta(userId, 'r1', 'Hel'),
      tokenDelta(userId, 'r1', 'lo'),
      ...run.slice(1),
    ]);
    await o.waitForCritical(6);
    expect(o.seqs()).toEqual(range(1, 6));
    expect(o.all.map((e) => e.name).slice(0, 3)).toEqual(['agent_started', 'token', 'token']);
    // The batched ack reaches the edge (ackIntervalMs 200 in these tests).
    await waitUntil(
      async () => {
        const metrics = await (await fetch(`${stack.edges[0]!.url}/metrics`)).text();
        const line = metrics.split('\n').find((l) => l.startsWith('aw_edge_acks_confirmed_total'));
        return line !== undefined && Number(line.split(' ').at(-1)) >= 6;
      },
      10_000,
      100,
      'acks confirmed on the edge',
    );
    expect(o.client.position?.lastSeq).toBe(6);
    o.client.disconnect();
  });

  it('resumes on the next edge after a drop: every event once, in order', async () => {
    const userId = freshUserId('resume');
    const token = await stack.token(userId);
    const o = observedClient({ url: urls, getToken: () => token });
    o.client.connect();
    await o.waitForState('connected');
    await ingestOk(stack, runEvents(userId, 'r1', 5));
    await o.waitForCritical(5);

    o.client.reconnect();
    // Published while the client is between sockets: must come through the resume.
    await ingestOk(stack, runEvents(userId, 'r2', 5), 1);
    await o.waitForCritical(10);
    await ingestOk(stack, runEvents(userId, 'r3', 2));
    await o.waitForCritical(12);
    expect(o.seqs()).toEqual(range(1, 12));
    expect(o.welcomes).toHaveLength(2);
    expect(o.welcomes[1]?.node).not.toBe(o.welcomes[0]?.node);
    expect(o.errors).toEqual([]);
    o.client.disconnect();
  });

  it('publishes upstream: accepted, re-sent with the same id, appended once', async () => {
    const userId = freshUserId('pub');
    const token = await stack.token(userId);
    const o = observedClient({ url: urls, getToken: () => token });
    o.client.connect();
    await o.waitForState('connected');
    await expect(
      o.client.publish({ text: 'hello agent' }, { threadId: 't9', id: 'msg-1' }),
    ).resolves.toEqual({ id: 'msg-1' });

    // Offline publish plus a repeat of msg-1 while reconnecting.
    o.client.reconnect();
    const queued = o.client.publish({ text: 'while reconnecting' }, { threadId: 't9' });
    const repeat = o.client.publish({ text: 'hello agent' }, { threadId: 't9', id: 'msg-1' });
    await expect(repeat).resolves.toEqual({ id: 'msg-1' });
    const { id: queuedId } = await queued;

    const redis = stack.redis.createClient();
    try {
      const keys = createKeyLayout(stack.env.KEY_PREFIX ?? 'aw', Number(stack.env.SHARDS ?? 16));
      const entries = await redis.xrange(keys.upstream(), '-', '+');
      const mine = entries
        .map(([, fields]) => Object.fromEntries(pairs(fields)))
        .filter((f) => f.u === userId);
      expect(mine.map((f) => f.m)).toEqual(['msg-1', queuedId]);
      expect(mine[0]).toMatchObject({ t: 't9' });
      expect(JSON.parse(mine[0]?.d ?? 'null')).toEqual({ text: 'hello agent' });
    } finally {
      redis.disconnect();
    }
    o.client.disconnect();
  });

  it('asks for a fresh token after 4001 and connects with it', async () => {
    const userId = freshUserId('auth');
    const expired = await stack.token(userId, { expiresInSec: -60 });
    const valid = await stack.token(userId);
    let calls = 0;
    const o = observedClient({ url: urls, getToken: () => (++calls === 1 ? expired : valid) });
    o.client.connect();
    await o.waitForState('connected');
    expect(calls).toBe(2);
    expect(o.welcomes[0]?.userId).toBe(userId);
    o.client.disconnect();
  });

  it('closes with UnauthorizedError when the fresh token is refused too', async () => {
    const bad = await stack.token(freshUserId('bad'), {
      secret: 'not-the-secret-0123456789abcdef',
    });
    let calls = 0;
    const o = observedClient({ url: urls, getToken: () => (calls++, bad) });
    o.client.connect();
    await waitUntil(() => o.errors.length > 0, 10_000, 20, 'an error');
    await o.waitForState('closed');
    expect(o.errors[0]).toBeInstanceOf(UnauthorizedError);
    expect(calls).toBe(2);
    expect(o.welcomes).toEqual([]);
  });

  it('resynchronises after retention dropped events it never saw', async () => {
    const userId = freshUserId('retention');
    const token = await stack.token(userId);
    const o = observedClient({ url: urls, getToken: () => token, store: memoryStore() });
    const resyncs: number[] = [];
    o.client.on('resync', (info) => {
      resyncs.push(info.position.lastSeq);
    });
    await ingestOk(stack, runEvents(userId, 'r0', 1));
    o.client.connect();
    // Seq 1 is either in the welcome's latestSeq or delivered live just after.
    await waitUntil(() => o.client.position?.lastSeq === 1, 15_000, 20, 'position 1');
    o.client.disconnect();

    // Twice the retention while away: the oldest of them are gone on return.
    const total = RETENTION_MAX_EVENTS * 2;
    const latest = 1 + total;
    // A second connection of the same user shows when the buffer has sequenced them all.
    const watcher = observedClient({ url: urls, getToken: () => token });
    watcher.client.connect();
    await watcher.waitForState('connected');
    await ingestOk(stack, runEvents(userId, 'r1', total));
    await waitUntil(() => watcher.client.position?.lastSeq === latest, 15_000, 20, 'watcher');
    watcher.client.disconnect();
    const before = o.critical.length;
    o.client.connect();
    await waitUntil(() => o.welcomes.length === 2, 15_000, 20, 'second welcome');
    const welcome = o.welcomes[1]!;
    expect(welcome.resumed).toBe(false);
    expect(welcome.oldestSeq).toBeGreaterThan(2);
    await waitUntil(() => o.client.position?.lastSeq === latest, 15_000, 20, `position ${latest}`);
    expect(resyncs).toEqual([welcome.oldestSeq - 1]);
    // Whatever was retained is replayed from oldestSeq, then live ones follow: no holes.
    expect(o.seqs().slice(before)).toEqual(range(welcome.oldestSeq, latest));
    // Replay from oldestSeq is not a gap: no extra reconnect happened.
    expect(o.welcomes).toHaveLength(2);
    o.client.disconnect();
  });
});

function pairs(fields: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) out.push([fields[i]!, fields[i + 1]!]);
  return out;
}
