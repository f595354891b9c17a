import { RunTexts, startStack, waitUntil, type Stack, type WsFrame } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUser, ingestOk, range, seqsOf, uniqueUser } from './support/edge-test-kit.js';
import { readMetric } from './support/hostile-raw-socket.js';
import { mixedText, RunProducer, type RunStreamRef } from './support/run-producer.js';

/**
 * A client that stops reading during a stream (protocol.md section 9,
 * "Delivery"): past the soft limit its appends are dropped, and the edge
 * owes it a snapshot of the run, sent once it reads again and before any
 * later append of the run. Below the hard limit it is never closed.
 */
const SOFT_BYTES = 64 * 1024;
const HARD_BYTES = 1024 * 1024;
/** Non-critical fillers per batch while the client is paused: about 15 MB in all, more than loopback socket buffers hold. */
const FILLERS_PER_BATCH = 3;
const FILLER = 'f'.repeat(50_000);

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    env: {
      SEND_BUFFER_SOFT_BYTES: String(SOFT_BYTES),
      SEND_BUFFER_HARD_BYTES: String(HARD_BYTES),
      LOG_LEVEL: 'warn',
    },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const edgeMetric = (name: string): Promise<number> =>
  readMetric(stack.edges[0]?.url as string, name);

describe('a client that stops reading mid-stream', () => {
  it('gets the owed snapshot once it reads again, before later appends: exact text, every seq', async () => {
    const user = uniqueUser('slow');
    const streams: RunStreamRef[] = ['answer', 'thinking'].map((stream) => ({
      userId: user,
      runId: 'r1',
      stream,
    }));
    const producer = new RunProducer(stack, streams);
    const { client } = await connectUser(stack, user, { lastSeq: 0 });
    const droppedBefore = await edgeMetric('aw_edge_noncritical_dropped_total');
    client.pause();
    let filler = 0;
    await producer.run({
      appendsPerStream: 100,
      maxBatch: 2,
      pauseMs: 0,
      criticalEvery: 25,
      // A few hundred bytes of mixed text per append: the run stays far below RUN_MAX_BYTES.
      text: () => mixedText().repeat(40),
      extra: () =>
        range(1, FILLERS_PER_BATCH).map(() => ({
          id: `${user}-filler-${++filler}`,
          userId: user,
          name: 'token_delta',
          data: FILLER,
        })),
    });
    await waitUntil(
      async () => (await edgeMetric('aw_edge_noncritical_dropped_total')) > droppedBefore,
      10_000,
      100,
      'the edge dropping for the paused client',
    );
    const pausedFrames = client.frames.length;
    client.resume();
    // Later appends, while the owed snapshot may still be on its way.
    await producer.run({ appendsPerStream: 150, maxBatch: 2, pauseMs: 2, criticalEvery: 25 });
    await ingestOk(stack, { id: `${user}-marker`, userId: user, name: 'tool_executing' });
    await client.waitFor((frame) => frame.id === `${user}-marker`, 20_000);

    const texts = new RunTexts().apply(client.frames);
    expect(texts.gaps).toEqual([]);
    for (const ref of streams) expect(texts.text('r1', ref.stream)).toBe(producer.text(ref));
    // Every critical event: agent_started, tool_executing every 25 appends, the marker.
    const critical = 1 + (2 * 150) / 25 + 1;
    expect(seqsOf(client)).toEqual(range(1, critical));

    // The owed snapshot came after the pause and covers appends that were
    // dropped (its chunks are above the last one sent before it + 1); no gap
    // above means no later append of the run overtook it.
    // (The run did not exist at hello: no snapshot followed the welcome.)
    const frames = client.frames;
    const owedAt = frames.findIndex((f) => f.type === 'snapshot');
    expect(owedAt).toBeGreaterThanOrEqual(pausedFrames);
    const owed = frames[owedAt] as WsFrame;
    const owedChunks = owed.streams as Record<string, { chunks: number }>;
    const lastBefore = lastChunks(frames.slice(0, owedAt));
    expect(
      streams.some(
        (ref) => (owedChunks[ref.stream]?.chunks ?? 0) > (lastBefore[ref.stream] ?? 0) + 1,
      ),
    ).toBe(true);
    expect(await edgeMetric('aw_edge_slow_consumer_closes_total')).toBe(0);
    expect(client.closeState).toBeUndefined();
    await client.close();
  }, 60_000);
});

function lastChunks(frames: readonly WsFrame[]): Record<string, number> {
  const last: Record<string, number> = {};
  for (const f of frames) if (typeof f.chunk === 'number') last[String(f.stream)] = f.chunk;
  return last;
}
