import { RunTexts, startStack, waitUntil, type Stack } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendEvent as append,
  connectUser,
  getRun,
  ingestOk,
  uniqueUser,
} from './support/edge-test-kit.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ edges: 2 });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const started = (userId: string, runId: string) => ({
  id: `${runId}-start`,
  userId,
  name: 'agent_started',
  runId,
});

describe('runs and their text streams', () => {
  it('streams appends with contiguous chunks; a client joining mid-run gets a snapshot, then the rest, exactly', async () => {
    const user = uniqueUser('run');
    const early = await connectUser(stack, user, {}, 0);
    await ingestOk(stack, [
      started(user, 'r1'),
      append(user, 'r1', 't1', 'Hel'),
      append(user, 'r1', 't2', 'lo'),
    ]);
    await early.client.waitFor((f) => f.chunk === 2);
    const late = await connectUser(stack, user, { lastSeq: 0 }, 1);
    await ingestOk(stack, [
      append(user, 'r1', 't3', ' wörld'),
      append(user, 'r1', 't4', '!', 'other'),
    ]);
    for (const { client } of [early, late]) {
      await client.waitFor((f) => f.stream === 'other');
    }
    expect(
      early.client
        .events()
        .filter((f) => f.chunk !== undefined)
        .map((f) => f.chunk),
    ).toEqual([1, 2, 3, 1]);
    // The late one: welcome, snapshot (before the replayed agent_started), then live appends.
    const types = late.client.frames.map((f) =>
      f.type === 'event' ? (f.chunk ?? `seq${f.seq}`) : f.type,
    );
    expect(types.slice(0, 3)).toEqual(['welcome', 'snapshot', 'seq1']);
    for (const { client } of [early, late]) {
      const texts = new RunTexts().apply(client.frames);
      expect(texts.gaps).toEqual([]);
      expect(texts.text('r1', 'answer')).toBe('Hello wörld');
      expect(texts.text('r1', 'other')).toBe('!');
    }
    await Promise.all([early.client.close(), late.client.close()]);
  });

  it('answers sync with exactly one snapshot, unknown for a run not retained', async () => {
    const user = uniqueUser('sync');
    // An ended run gets no snapshot after the welcome; a running one does.
    await ingestOk(stack, [
      started(user, 'r0'),
      append(user, 'r0', 's0', 'old'),
      { id: 'r0-end', userId: user, name: 'agent_completed', runId: 'r0' },
      started(user, 'r1'),
      append(user, 'r1', 's1', 'abc'),
    ]);
    await waitUntil(async () => (await getRun(stack, user, 'r1')).status === 200, 5000);
    const { client } = await connectUser(stack, user, {}, 0);
    client.send({ type: 'sync', runId: 'r1' });
    client.send({ type: 'sync', runId: 'nope' });
    await client.waitFor((f) => f.type === 'snapshot' && f.runId === 'nope');
    const snapshots = client.frames.filter((f) => f.type === 'snapshot');
    // One from the welcome (the run is running) and one per sync.
    expect(snapshots.map((f) => [f.runId, f.status])).toEqual([
      ['r1', 'running'],
      ['r1', 'running'],
      ['nope', 'unknown'],
    ]);
    expect(snapshots[1]?.streams).toEqual({ answer: { text: 'abc', chunks: 1, truncated: false } });
    await client.close();
  });

  it('serves GET /v1/runs/{runId} for the token’s user only: 200 the snapshot, 404 otherwise', async () => {
    const user = uniqueUser('http');
    await ingestOk(stack, [
      started(user, 'r/1'),
      append(user, 'r/1', 'h1', 'x'),
      { id: 'h-end', userId: user, name: 'agent_completed', runId: 'r/1' },
    ]);
    await waitUntil(
      async () => (await getRun(stack, user, 'r/1', 1)).body.status === 'ended',
      5000,
    );
    const { body } = await getRun(stack, user, 'r/1', 1);
    expect(body).toMatchObject({
      type: 'snapshot',
      runId: 'r/1',
      status: 'ended',
      streams: { answer: { text: 'x', chunks: 1, truncated: false } },
    });
    expect((await getRun(stack, uniqueUser('other'), 'r/1')).status).toBe(404);
    expect((await getRun(stack, user, 'missing')).status).toBe(404);
  });

  it('refuses malformed appends with 400 and accepts nothing of their batch', async () => {
    const user = uniqueUser('bad');
    const cases = [
      { ...append(user, 'r1', 'b1', 'x'), critical: true },
      { id: 'b2', userId: user, name: 'token', append: 'x' },
      append(user, 'r1', 'b3', 'bad \ud800'),
      append(user, 'r1', 'b4', 'x', 'no spaces'),
      { id: 'b5', userId: user, name: 'token', runId: 'r1', append: '' },
      { id: 'b6', userId: user, name: 'token', runId: 'r1', stream: 'answer' },
      { id: 'b7', userId: user, name: 'run_stalled', runId: 'r1' },
    ];
    for (const event of cases) {
      const result = await stack.ingest([append(user, 'r1', 'ok', 'fine'), event]);
      expect(result.status, JSON.stringify(event)).toBe(400);
    }
    expect((await getRun(stack, user, 'r1')).status).toBe(404);
  });
});
