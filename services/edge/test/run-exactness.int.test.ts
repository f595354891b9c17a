import { sleep, startStack, waitUntil, type Stack } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRun, range, uniqueUser } from './support/edge-test-kit.js';
import { expectExactTexts, RunFollower } from './support/run-follower.js';
import { RunProducer, runStreamsOf } from './support/run-producer.js';

/**
 * The exactness race of protocol.md section 9: clients that drop and resume
 * (or ask for snapshots) at random moments, on random edges, while a
 * producer streams appends, end with every stream's text byte for byte.
 */
const USERS = 3;
const RUNS_PER_USER = 2;
const STREAMS = ['answer', 'thinking'];
const APPENDS_PER_STREAM = 200;
const FOLLOWERS_PER_USER = 2;
/** Drops (and resumes) per follower while the producer runs, at most. */
const MAX_DROPS = 25;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    edges: 2,
    // Connections dropped without a close frame may linger a moment on the server.
    env: { MAX_CONNECTIONS_PER_USER: '20', LOG_LEVEL: 'warn' },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const randomEdge = (): number => Math.floor(Math.random() * stack.edges.length);

/**
 * While `producing()` holds, at random moments: drops `follower` and resumes
 * it on a random edge, or has it ask for a snapshot of one of its runs
 * (appends of the run are held meanwhile and must line up after it).
 */
async function churn(follower: RunFollower, producing: () => boolean): Promise<number> {
  let drops = 0;
  while (producing() && drops < MAX_DROPS) {
    await sleep(20 + Math.random() * 300);
    if (!producing()) break;
    if (Math.random() < 0.4) {
      follower.requestSnapshot(`run-${1 + Math.floor(Math.random() * RUNS_PER_USER)}`);
      continue;
    }
    await follower.terminate();
    drops++;
    // Sometimes straight back, sometimes after the stream moved on.
    if (Math.random() < 0.5) await sleep(Math.random() * 150);
    await follower.connect(randomEdge());
  }
  return drops;
}

describe('run exactness under reconnects', () => {
  it('clients dropping, resuming and syncing at random on 2 edges end with every text byte for byte', async () => {
    const users = range(1, USERS).map((n) => uniqueUser(`exact${n}`));
    const producer = new RunProducer(stack, runStreamsOf(users, RUNS_PER_USER, STREAMS));
    const followers = users.flatMap((userId) =>
      range(1, FOLLOWERS_PER_USER).map(() => new RunFollower(stack, userId)),
    );
    await Promise.all(followers.map((follower, i) => follower.connect(i % 2)));

    let producing = true;
    const produced = producer
      .run({
        appendsPerStream: APPENDS_PER_STREAM,
        maxBatch: 4,
        pauseMs: 3,
        criticalEvery: 40,
        end: true,
      })
      .finally(() => (producing = false));
    const drops = await Promise.all(followers.map((f) => churn(f, () => producing)));
    await produced;
    // Every client resumes once more after the producer finished and ended
    // the runs: an ended run gets no snapshot after welcome, so a client that
    // missed its last appends learns it from the replayed end and syncs.
    for (const follower of followers) {
      await follower.terminate();
      await follower.connect(randomEdge());
    }

    await expectExactTexts(followers, producer, 15_000);
    for (const follower of followers) expect(follower.unexpectedCloses).toEqual([]);
    const totalDrops = drops.reduce((sum, n) => sum + n, 0);
    expect(totalDrops).toBeGreaterThan(followers.length);
    console.info(
      `run exactness: ${totalDrops} drops and resumes over ${followers.length} clients, ` +
        `${followers.reduce((sum, f) => sum + f.snapshots, 0)} snapshots, ` +
        `${followers.reduce((sum, f) => sum + f.syncs.length, 0)} syncs`,
    );
    await Promise.all(followers.map((follower) => follower.close()));
  }, 60_000);

  it('a run that ended while the client was away: no snapshot after welcome, the replayed end, then sync gives the whole text', async () => {
    const user = uniqueUser('away');
    const ref = { userId: user, runId: 'r1', stream: 'answer' };
    const producer = new RunProducer(stack, [ref], [0]);
    const follower = new RunFollower(stack, user);
    await follower.connect(0);
    await producer.run({ appendsPerStream: 5, maxBatch: 1, pauseMs: 0 });
    await waitUntil(() => follower.text(ref) === producer.text(ref), 5000);
    await follower.terminate();
    await producer.run({ appendsPerStream: 10, maxBatch: 1, pauseMs: 0, end: true });
    // A 202 means in the ingest stream: wait until the buffer has ended the run.
    await waitUntil(async () => (await getRun(stack, user, 'r1')).body.status === 'ended', 5000);
    const snapshotsBefore = follower.snapshots;

    await follower.connect(1);
    await waitUntil(() => follower.text(ref) === producer.text(ref), 5000);
    expect(follower.syncs).toEqual(['r1']);
    expect(follower.snapshots).toBe(snapshotsBefore + 1);
    expect(follower.texts.gaps).toEqual([]);
    await follower.close();
  });
});
