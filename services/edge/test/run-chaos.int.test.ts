import { sleep, startStack, type Stack } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { range, uniqueUser } from './support/edge-test-kit.js';
import { expectExactTexts, RunFollower } from './support/run-follower.js';
import { RunProducer, runStreamsOf } from './support/run-producer.js';

/**
 * Runs through process crashes (protocol.md section 9, "Delivery"): chunks
 * are assigned by the sequencer in the same step that persists the text,
 * so a SIGKILLed edge (producers retry the same ids elsewhere) or buffer
 * (another takes its shards over and redelivers) can neither skip nor reuse
 * a chunk, and every client's text ends exact.
 */
const LEASE_TTL_MS = 2000;
const USERS = 3;
const RUNS_PER_USER = 2;
const STREAMS = ['answer', 'thinking'];
const APPENDS_PER_STREAM = 150;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    edges: 2,
    buffers: 2,
    env: {
      SHARDS: '8',
      LEASE_TTL_MS: String(LEASE_TTL_MS),
      // The killed edge's routes count until it is reaped.
      MAX_CONNECTIONS_PER_USER: '20',
      LOG_LEVEL: 'warn',
    },
  });
  // Both buffers settle on their share of the shards before the stream starts.
  await sleep(LEASE_TTL_MS);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('runs through SIGKILL of an edge and of a buffer', () => {
  it('keeps chunks contiguous and never reused, and every text exact after resume', async () => {
    const users = range(1, USERS).map((n) => uniqueUser(`chaos${n}`));
    const producer = new RunProducer(stack, runStreamsOf(users, RUNS_PER_USER, STREAMS));
    // Observers on edge 1, never killed; the others on edge 0, which is.
    const observers = users.map((userId) => new RunFollower(stack, userId));
    const resumers = users.map((userId) => new RunFollower(stack, userId));
    await Promise.all([
      ...observers.map((follower) => follower.connect(1)),
      ...resumers.map((follower) => follower.connect(0)),
    ]);

    const faults: Array<Promise<void>> = [];
    const killEdge = async (): Promise<void> => {
      await stack.edges[0]?.kill();
      await Promise.all(resumers.map((follower) => follower.connect(1)));
    };
    const killBuffer = async (): Promise<void> => {
      await stack.buffers[0]?.kill();
    };
    await producer.run({
      appendsPerStream: APPENDS_PER_STREAM,
      maxBatch: 4,
      pauseMs: 5,
      criticalEvery: 40,
      onProgress: (share) => {
        if (share >= 0.3 && faults.length === 0) faults.push(killEdge());
        if (share >= 0.6 && faults.length === 1) faults.push(killBuffer());
      },
    });
    await Promise.all(faults);
    expect(faults).toHaveLength(2);

    const followers = [...observers, ...resumers];
    await expectExactTexts(followers, producer, 20_000);
    for (const [i, observer] of observers.entries()) {
      // Every chunk once, in order, on the connection that stayed.
      for (const ref of producer.streams.filter((r) => r.userId === observer.userId)) {
        const key = `${ref.runId}/${ref.stream}`;
        expect(observer.chunks.get(key), key).toEqual(range(1, producer.appends(ref)));
      }
      expect(observer.connections).toBe(1);
      expect(observer.unexpectedCloses).toEqual([]);
      // No chunk number with two texts, between the two clients of the user either.
      const resumer = resumers[i] as RunFollower;
      for (const [at, text] of resumer.appendTexts) {
        expect(observer.appendTexts.get(at), at).toBe(text);
      }
    }
    // Their edge was killed once; they resumed on the other.
    for (const resumer of resumers) expect(resumer.unexpectedCloses).toEqual([1006]);
    console.info(`run chaos: producer retries ${producer.retries}`);
    await Promise.all(followers.map((follower) => follower.close()));
  }, 60_000);
});
