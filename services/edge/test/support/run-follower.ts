import { DEFAULT_RUN_END_EVENTS } from '@agentwire/protocol';
import { RunTexts, TestWsClient, waitUntil, type Stack, type WsFrame } from '@agentwire/testing';
import { expect } from 'vitest';
import type { RunProducer, RunStreamRef } from './run-producer.js';

/**
 * One user's client that follows its runs as an application does, across
 * as many connections as a test gives it: it keeps its texts (RunTexts: a
 * snapshot replaces, the chunk rule appends, a gap asks for a snapshot with
 * `sync`) and its critical position, and resumes with hello {lastSeq, epoch}
 * of what it processed, acknowledging each critical event. A run's end that
 * comes as a replay is synced too: the appends before it are not replayed,
 * and an ended run gets no snapshot after the welcome. It records what tests check: the critical seqs it
 * processed, every chunk each stream received, and any chunk number that
 * came with two different texts.
 */
export class RunFollower {
  readonly texts = new RunTexts();
  /** Critical seqs processed, over all connections, in order. */
  readonly seqs: number[] = [];
  /** Critical seqs that jumped past lastSeq + 1 (none may). */
  readonly seqGaps: string[] = [];
  /** Welcomes with an epoch other than the one held (a history recreated). */
  epochChanges = 0;
  /** Per `runId/stream`, the chunk of every append received, in arrival order. */
  readonly chunks = new Map<string, number[]>();
  /** The text each chunk came with, by `runId/stream#chunk` (the first, if it came twice). */
  readonly appendTexts = new Map<string, string>();
  /** `runId/stream#chunk` that arrived with two different texts (none may). */
  readonly chunkConflicts: string[] = [];
  /** Runs a `sync` was sent for (after a gap, or a replayed end). */
  readonly syncs: string[] = [];
  /** Close codes of connections that ended without terminate() or close() (none, unless a test kills an edge). */
  readonly unexpectedCloses: number[] = [];
  /** Error frames received (a refused sync, say). */
  readonly errors: WsFrame[] = [];
  /** Snapshot frames received, over all connections. */
  snapshots = 0;
  connections = 0;
  private lastSeq = 0;
  /** The current connection's welcome latestSeq: seqs up to it are replayed. */
  private replayedUpTo = 0;
  private epoch: string | undefined;
  private client: TestWsClient | undefined;
  /** Connections this follower ended itself. */
  private readonly ended = new WeakSet<TestWsClient>();

  constructor(
    private readonly stack: Stack,
    readonly userId: string,
  ) {}

  /** Opens a connection on edge `edge` and resumes from what was processed (lastSeq 0 at first). */
  async connect(edge: number): Promise<void> {
    const target = this.stack.edges[edge];
    if (target === undefined) throw new Error(`no edge ${edge}`);
    const client = await TestWsClient.connect(target.wsUrl);
    this.client = client;
    // Before the hello: nothing that follows the welcome may be missed.
    client.onFrame((frame) => this.process(client, frame));
    void client.closed.then(({ code }) => {
      if (!this.ended.has(client)) this.unexpectedCloses.push(code);
    });
    const position = this.epoch === undefined ? {} : { epoch: this.epoch };
    await client.hello(await this.stack.token(this.userId), { lastSeq: this.lastSeq, ...position });
    this.connections++;
  }

  /** Drops the connection without a close frame (a network failure). */
  async terminate(): Promise<void> {
    if (this.client === undefined) return;
    this.ended.add(this.client);
    await this.client.terminate();
  }

  async close(): Promise<void> {
    if (this.client === undefined) return;
    this.ended.add(this.client);
    await this.client.close();
  }

  /** Asks for a snapshot of `runId` on the current connection (as an application may at any time). */
  requestSnapshot(runId: string): void {
    if (this.client !== undefined) this.sync(this.client, runId);
  }

  /** The follower's text of a stream ('' when it has none). */
  text(ref: RunStreamRef): string {
    return this.texts.text(ref.runId, ref.stream) ?? '';
  }

  private process(client: TestWsClient, frame: WsFrame): void {
    if (frame.type === 'welcome') {
      const epoch = String(frame.epoch);
      if (this.epoch !== undefined && epoch !== this.epoch) {
        this.epochChanges++;
        this.lastSeq = Math.max(0, Number(frame.oldestSeq) - 1);
      }
      this.epoch = epoch;
      this.replayedUpTo = Number(frame.latestSeq);
      return;
    }
    if (frame.type === 'snapshot') this.snapshots++;
    if (frame.type === 'error') this.errors.push(frame);
    if (frame.type === 'event' && typeof frame.seq === 'number') {
      if (frame.seq <= this.lastSeq) return;
      if (frame.seq !== this.lastSeq + 1) {
        this.seqGaps.push(`seq ${frame.seq} after ${this.lastSeq}`);
      }
      this.lastSeq = frame.seq;
      this.seqs.push(frame.seq);
      // Acknowledged at once: a connection that never acks is closed as dead.
      client.send({ type: 'ack', seq: frame.seq });
      const ended = DEFAULT_RUN_END_EVENTS.includes(String(frame.name));
      if (ended && frame.seq <= this.replayedUpTo && typeof frame.runId === 'string') {
        this.sync(client, frame.runId);
      }
      return;
    }
    if (frame.type === 'event' && typeof frame.chunk === 'number') this.recordAppend(frame);
    const gap = this.texts.applyFrame(frame);
    if (gap !== undefined) this.sync(client, gap);
  }

  private sync(client: TestWsClient, runId: string): void {
    this.syncs.push(runId);
    client.send({ type: 'sync', runId });
  }

  private recordAppend(frame: WsFrame): void {
    const stream = `${String(frame.runId)}/${String(frame.stream)}`;
    const chunk = frame.chunk as number;
    let list = this.chunks.get(stream);
    if (list === undefined) {
      list = [];
      this.chunks.set(stream, list);
    }
    list.push(chunk);
    const at = `${stream}#${chunk}`;
    const text = String(frame.append);
    const seen = this.appendTexts.get(at);
    if (seen === undefined) this.appendTexts.set(at, text);
    else if (seen !== text) this.chunkConflicts.push(at);
  }
}

/**
 * Waits (up to `timeoutMs`) until every follower holds its user's texts as
 * the producer sent them, then asserts it byte for byte, with no gap, no
 * chunk with two texts, and critical seqs 1..n without a jump.
 */
export async function expectExactTexts(
  followers: readonly RunFollower[],
  producer: RunProducer,
  timeoutMs: number,
): Promise<void> {
  const own = (follower: RunFollower) =>
    producer.streams.filter((ref) => ref.userId === follower.userId);
  const complete = (follower: RunFollower) =>
    own(follower).every((ref) => follower.text(ref) === producer.text(ref));
  await waitUntil(() => followers.every(complete), timeoutMs, 50, 'every text complete').catch(
    () => undefined, // the assertions below say what differs
  );
  for (const follower of followers) {
    for (const ref of own(follower)) {
      expect(Buffer.from(follower.text(ref))).toEqual(Buffer.from(producer.text(ref)));
    }
    expect(follower.texts.gaps).toEqual([]);
    expect(follower.chunkConflicts).toEqual([]);
    expect(follower.seqGaps).toEqual([]);
    expect(follower.epochChanges).toBe(0);
    expect(follower.errors).toEqual([]);
    expect(follower.seqs).toEqual(follower.seqs.map((_, i) => i + 1));
  }
}
