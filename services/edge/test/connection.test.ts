import { Registry } from '@agentwire/telemetry';
import { beforeEach, describe, expect, it } from 'vitest';
import { createEdgeMetrics, type EdgeMetrics } from '../src/metrics.js';
import { Connection, type ConnectionShared } from '../src/ws/connection.js';
import { FakeSocket } from './support/fake-socket.js';

const frameOf = (seq: number): string => `{"type":"event","seq":${seq},"id":"e${seq}"}`;
const nonCriticalFrame = (label: string): string =>
  `{"type":"event","id":"${label}","critical":false}`;

let metrics: EdgeMetrics;
let catchUps: Connection[];
let shared: ConnectionShared;
let owedServed: Connection[];

beforeEach(() => {
  metrics = createEdgeMetrics(new Registry());
  owedServed = [];
  catchUps = [];
  shared = {
    limits: {
      softBytes: 1000,
      hardBytes: 5000,
      queueMaxItems: 100,
      queueMaxBytes: 100_000,
      ackTrackCapacity: 64,
      publish: { ratePerSec: 2, burst: 3, closeAfterViolations: 4, violationWindowMs: 1000 },
    },
    metrics,
    catchUp: (conn) => catchUps.push(conn),
    observeAckMs: (ms) => metrics.ackLatency.observe(ms / 1000),
    serveOwedSnapshots: (conn) => owedServed.push(conn),
  };
});

function liveConnection(lastSentSeq = 0): { conn: Connection; socket: FakeSocket } {
  const socket = new FakeSocket();
  const conn = new Connection('c-1', undefined, shared, 0);
  socket.onEnd = () => conn.markClosed();
  conn.attach(socket);
  conn.userId = 'u1';
  conn.epoch = 'ep';
  conn.lastSentSeq = lastSentSeq;
  conn.state = 'replaying';
  conn.goLive(0);
  return { conn, socket };
}

/** One dispatcher batch: offer every entry, then flush the staged frames. */
function batch(
  conn: Connection,
  entries: Array<[seq: number, frame: string, epoch?: string]>,
  now = 1,
): void {
  const dirty: Connection[] = [];
  for (const [seq, frame, epoch] of entries) conn.offer(seq, frame, epoch ?? 'ep', now, dirty);
  for (const c of dirty) c.flushOutbox(now);
}

async function counterValue(name: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
}

describe('Connection live delivery', () => {
  it('sends frames verbatim, in order, in one corked write per batch', () => {
    const { conn, socket } = liveConnection(0);
    batch(conn, [
      [1, frameOf(1)],
      [0, nonCriticalFrame('n1')],
      [2, frameOf(2)],
    ]);
    expect(socket.sent).toEqual([frameOf(1), nonCriticalFrame('n1'), frameOf(2)]);
    expect(socket.corks).toBe(1);
    expect(conn.lastSentSeq).toBe(2);
  });

  it('drops critical seqs already sent (at-least-once forwarding)', () => {
    const { conn, socket } = liveConnection(3);
    batch(conn, [
      [2, frameOf(2)],
      [3, frameOf(3)],
      [4, frameOf(4)],
      [4, frameOf(4)],
    ]);
    expect(socket.sent).toEqual([frameOf(4)]);
  });

  it('starts one catch-up from the log on a gap and queues the event', () => {
    const { conn, socket } = liveConnection(3);
    batch(conn, [
      [5, frameOf(5)],
      [6, frameOf(6)],
    ]);
    expect(socket.sent).toEqual([]);
    expect(catchUps).toEqual([conn]);
    expect(conn.state).toBe('replaying');
    // The catch-up found nothing new (seq 4 is gone from the log): the queue goes out as is.
    conn.goLive(2);
    expect(socket.sent).toEqual([frameOf(5), frameOf(6)]);
    expect(catchUps).toHaveLength(1);
  });

  it('reads the log when its route may have been missing, queueing live events meanwhile', () => {
    const { conn, socket } = liveConnection(3);
    conn.catchUpMissed();
    expect(catchUps).toEqual([conn]);
    expect(conn.state).toBe('replaying');
    batch(conn, [[4, frameOf(4)]]);
    expect(socket.sent).toEqual([]);
    conn.goLive(2);
    expect(socket.sent).toEqual([frameOf(4)]);
    // Not a gap catch-up: a gap from the same position still gets its own.
    conn.catchUpMissed();
    conn.goLive(3);
    batch(conn, [[6, frameOf(6)]]);
    expect(catchUps).toHaveLength(3);
  });

  it('leaves a connection that is not live yet to its own replay', () => {
    const conn = new Connection('c-2', undefined, shared, 0);
    conn.attach(new FakeSocket());
    conn.state = 'replaying';
    conn.catchUpMissed();
    expect(catchUps).toEqual([]);
  });

  it('sends a reconnect and closes 4503 when an event belongs to another epoch', () => {
    const { conn, socket } = liveConnection(1);
    batch(conn, [
      [2, frameOf(2)],
      [1, frameOf(1), 'other'],
    ]);
    expect(socket.sent[0]).toBe(frameOf(2));
    expect(JSON.parse(socket.sent[1] as string)).toEqual({ type: 'reconnect', afterMs: 0 });
    expect(socket.closed?.code).toBe(4503);
    expect(conn.isClosed).toBe(true);
  });

  it('ignores the epoch of non-critical events and empty epochs', () => {
    const { conn, socket } = liveConnection(0);
    batch(conn, [
      [0, nonCriticalFrame('a'), 'other'],
      [1, frameOf(1), ''],
    ]);
    expect(socket.sent).toHaveLength(2);
    expect(conn.isClosed).toBe(false);
  });

  it('drops non-critical events above the soft limit but still sends critical ones', async () => {
    const { conn, socket } = liveConnection(0);
    socket.buffered = 1500;
    batch(conn, [
      [0, nonCriticalFrame('a')],
      [1, frameOf(1)],
    ]);
    expect(socket.sent).toEqual([frameOf(1)]);
    expect(await counterValue('aw_edge_noncritical_dropped_total')).toBe(1);
  });

  it('drops non-critical events once what a stalled socket holds passes the soft limit, within one batch', async () => {
    const { conn, socket } = liveConnection(0);
    socket.stalled = true;
    socket.buffered = 900;
    const big = `{"type":"event","id":"x","critical":false,"pad":"${'p'.repeat(200)}"}`;
    batch(conn, [
      [0, big],
      [0, big],
    ]);
    expect(socket.sent).toEqual([big]);
    expect(await counterValue('aw_edge_noncritical_dropped_total')).toBe(1);
  });

  it('sends a batch larger than the hard limit to a socket that takes it, without closing', () => {
    const { conn, socket } = liveConnection(0);
    const frames = Array.from({ length: 40 }, (_, i) => frameOf(i + 1).padEnd(300, ' '));
    batch(
      conn,
      frames.map((frame, i) => [i + 1, frame]),
    );
    expect(socket.sent).toEqual(frames);
    expect(socket.closed).toBeUndefined();
  });

  it('closes 4408 when a stalled socket passes the hard limit within one batch', () => {
    const { conn, socket } = liveConnection(0);
    socket.stalled = true;
    const frames = Array.from({ length: 40 }, (_, i) => frameOf(i + 1).padEnd(300, ' '));
    batch(
      conn,
      frames.map((frame, i) => [i + 1, frame]),
    );
    expect(socket.closed?.code).toBe(4408);
    expect(socket.sent.length).toBeLessThan(frames.length);
  });

  it('closes 4408 above the hard limit', async () => {
    const { conn, socket } = liveConnection(0);
    socket.buffered = 6000;
    batch(conn, [[1, frameOf(1)]]);
    expect(socket.closed?.code).toBe(4408);
    expect(conn.isClosed).toBe(true);
    expect(await counterValue('aw_edge_slow_consumer_closes_total')).toBe(1);
  });

  it('closes 4408 when uWS drops a send', () => {
    const { conn, socket } = liveConnection(0);
    socket.sendStatus = 2;
    batch(conn, [
      [1, frameOf(1)],
      [2, frameOf(2)],
    ]);
    expect(socket.sent).toEqual([frameOf(1)]);
    expect(socket.closed?.code).toBe(4408);
  });
});

describe('Connection while replaying', () => {
  it('queues live events and, going live, sends only what the replay did not', () => {
    const socket = new FakeSocket();
    const conn = new Connection('c-2', undefined, shared, 0);
    socket.onEnd = () => conn.markClosed();
    conn.attach(socket);
    conn.epoch = 'ep';
    conn.state = 'replaying';
    batch(conn, [
      [0, nonCriticalFrame('old')],
      [2, frameOf(2)],
      [0, nonCriticalFrame('new')],
      [3, frameOf(3)],
    ]);
    expect(socket.sent).toEqual([]);
    conn.cork(() => {
      conn.sendReplayed(1, frameOf(1), 1);
      conn.sendReplayed(2, frameOf(2), 1);
    });
    conn.goLive(2);
    expect(socket.sent).toEqual([frameOf(1), frameOf(2), nonCriticalFrame('new'), frameOf(3)]);
    expect(conn.state).toBe('live');
  });

  it('reports a queue overflow once, also in a replay after an earlier one released its queue', () => {
    const { conn, socket } = liveConnection(0);
    const events = (from: number, count: number): Array<[number, string]> =>
      Array.from({ length: count }, (_, i) => [from + i, frameOf(from + i)]);
    expect(conn.takeQueueOverflow()).toBe(false);
    conn.catchUpMissed();
    batch(conn, events(1, 101));
    expect(conn.takeQueueOverflow()).toBe(true);
    expect(conn.takeQueueOverflow()).toBe(false);
    // The replay reads the log once more and finds them all.
    conn.cork(() => {
      for (const [seq, frame] of events(1, 101)) conn.sendReplayed(seq, frame, 1);
    });
    conn.goLive(2);
    expect(socket.sent).toHaveLength(101);
    // Live, it holds no queue; the next catch-up queues, and overflows, as the first did.
    conn.catchUpMissed();
    batch(conn, [[102, frameOf(102)]]);
    expect(conn.takeQueueOverflow()).toBe(false);
    conn.goLive(3);
    expect(socket.sent.at(-1)).toBe(frameOf(102));
    conn.catchUpMissed();
    batch(conn, events(103, 101));
    expect(conn.takeQueueOverflow()).toBe(true);
  });

  it('keeps an overflow not yet taken when it goes live', () => {
    const { conn } = liveConnection(0);
    conn.catchUpMissed();
    batch(
      conn,
      Array.from({ length: 101 }, (_, i) => [i + 1, frameOf(i + 1)]),
    );
    conn.goLive(2);
    expect(conn.takeQueueOverflow()).toBe(true);
  });

  it('never sends a replayed seq twice', () => {
    const { conn, socket } = liveConnection(5);
    expect(conn.sendReplayed(5, frameOf(5), 1)).toBe(true);
    expect(conn.sendReplayed(6, frameOf(6), 1)).toBe(true);
    expect(socket.sent).toEqual([frameOf(6)]);
  });
});

describe('Connection acks', () => {
  it('accepts acks up to the highest seq sent and counts confirmations', async () => {
    const { conn } = liveConnection(0);
    batch(conn, [
      [1, frameOf(1)],
      [2, frameOf(2)],
    ]);
    expect(conn.ack(1, 10)).toBe(true);
    expect(conn.ack(2, 10)).toBe(true);
    expect(conn.ack(1, 10)).toBe(true);
    expect(await counterValue('aw_edge_acks_confirmed_total')).toBe(2);
  });

  it('rejects an ack above both the hello lastSeq and the highest seq sent', () => {
    const { conn } = liveConnection(2);
    conn.helloLastSeq = 7;
    expect(conn.ack(7, 1)).toBe(true);
    expect(conn.ack(8, 1)).toBe(false);
  });
});

describe('Connection closing', () => {
  it('does not touch the socket after close', () => {
    const { conn, socket } = liveConnection(0);
    conn.end(4400, 'bye');
    expect(socket.closed?.code).toBe(4400);
    batch(conn, [[1, frameOf(1)]]);
    expect(conn.sendControl('{}', 1)).toBe(false);
    expect(conn.bufferedAmount()).toBe(0);
    expect(socket.sent).toEqual([]);
  });

  it('truncates close reasons to fit a control frame', () => {
    const { conn, socket } = liveConnection(0);
    conn.end(4400, 'x'.repeat(300));
    expect(socket.closed?.reason.length).toBeLessThanOrEqual(123);
  });

  it('releases replay waiters when the socket closes', async () => {
    const { conn, socket } = liveConnection(0);
    socket.buffered = 2000;
    const waiting = conn.whenWritable();
    conn.end(1000, 'done');
    await expect(waiting).resolves.toBeUndefined();
  });

  it('releases replay waiters on drain below the soft limit', async () => {
    const { conn, socket } = liveConnection(0);
    socket.buffered = 2000;
    let released = false;
    const waiting = conn.whenWritable().then(() => {
      released = true;
    });
    conn.onDrain();
    await Promise.resolve();
    expect(released).toBe(false);
    socket.buffered = 500;
    conn.onDrain();
    await waiting;
    expect(released).toBe(true);
  });
});

describe('Connection reconnect and publish admission', () => {
  it('announces a reconnect after what was staged and stays open', () => {
    const { conn, socket } = liveConnection(0);
    const dirty: Connection[] = [];
    conn.offer(1, frameOf(1), 'ep', 1, dirty);
    expect(conn.announceReconnect(1500)).toBe(true);
    expect(socket.sent).toEqual([frameOf(1), '{"type":"reconnect","afterMs":1500}']);
    expect(socket.closed).toBeUndefined();
    // Still live: events keep flowing until the drain closes the socket.
    batch(conn, [[2, frameOf(2)]]);
    expect(socket.sent.at(-1)).toBe(frameOf(2));
  });

  it('applies its publish rate limit: burst, then rejections, then close', () => {
    const { conn } = liveConnection(0);
    // Limits of this file: burst 3, 2/s, close on the 4th rejection within 1 s.
    expect([1, 2, 3].map(() => conn.admitPublish(0))).toEqual(['accept', 'accept', 'accept']);
    expect([1, 2, 3].map(() => conn.admitPublish(10))).toEqual(['reject', 'reject', 'reject']);
    expect(conn.admitPublish(20)).toBe('close');
  });
});

describe('Connection run appends (protocol.md section 9)', () => {
  const appendOf = (chunk: number, runId = 'r1', stream = 'answer') => ({
    frame: `{"type":"event","chunk":${chunk},"runId":"${runId}","stream":"${stream}"}`,
    append: { runId, stream, chunk },
  });
  const offerAppends = (conn: Connection, chunks: number[], runId = 'r1') => {
    const dirty: Connection[] = [];
    for (const chunk of chunks) {
      const { frame, append } = appendOf(chunk, runId);
      conn.offer(0, frame, '', 1, dirty, append);
    }
    for (const c of dirty) c.flushOutbox(1);
  };
  const chunksSent = (socket: FakeSocket) =>
    socket.sent.map((frame) => /"chunk":(\d+)/.exec(frame)?.[1] ?? frame.slice(0, 20));

  it('sends each chunk once: repeats and chunks a snapshot covered are skipped', () => {
    const { conn, socket } = liveConnection();
    offerAppends(conn, [1, 2, 2, 1, 3]);
    expect(chunksSent(socket)).toEqual(['1', '2', '3']);
    conn.sendSnapshot('r1', '{"type":"snapshot"}', new Map([['answer', 5]]), 1);
    offerAppends(conn, [4, 5, 6]);
    expect(chunksSent(socket)).toEqual(['1', '2', '3', '{"type":"snapshot"}', '6']);
  });

  it('owes a snapshot after dropping an append, holds appends while reading it, then sends what it does not cover', () => {
    const { conn, socket } = liveConnection();
    offerAppends(conn, [1]);
    socket.buffered = 2000; // above the soft limit: appends are dropped
    offerAppends(conn, [2, 3]);
    expect(owedServed).toEqual([conn]);
    socket.buffered = 0;
    offerAppends(conn, [4]); // owed, not read yet: the snapshot will cover it
    expect(conn.takeOwedSnapshots()).toEqual(['r1']);
    offerAppends(conn, [5, 6]); // read under way: held
    expect(chunksSent(socket)).toEqual(['1']);
    conn.sendSnapshot('r1', '{"type":"snapshot"}', new Map([['answer', 5]]), 1);
    expect(chunksSent(socket)).toEqual(['1', '{"type":"snapshot"}', '6']);
    expect(conn.finishServingSnapshots()).toBe(false);
  });

  it('owes a snapshot of every run it follows when its node was taken for dead (catchUpMissed)', () => {
    const { conn } = liveConnection();
    offerAppends(conn, [1], 'r1');
    offerAppends(conn, [1], 'r2');
    conn.catchUpMissed();
    expect(owedServed).toEqual([conn]);
    expect(conn.takeOwedSnapshots()).toEqual(['r1', 'r2']);
  });

  it('holds a run’s appends while a sync is answered; other runs flow', () => {
    const { conn, socket } = liveConnection();
    conn.beginSnapshotRead('r1');
    offerAppends(conn, [1, 2], 'r1');
    offerAppends(conn, [1], 'r2');
    expect(chunksSent(socket)).toEqual(['1']);
    conn.sendSnapshot('r1', '{"type":"snapshot"}', new Map([['answer', 1]]), 1);
    expect(chunksSent(socket)).toEqual(['1', '{"type":"snapshot"}', '2']);
  });

  it('owes a snapshot for appends the live queue dropped that the client lacks', () => {
    const socket = new FakeSocket();
    const conn = new Connection('c-1', undefined, shared, 0);
    conn.attach(socket);
    conn.userId = 'u1';
    conn.epoch = 'ep';
    conn.state = 'replaying';
    const dirty: Connection[] = [];
    const { frame, append } = appendOf(1);
    conn.offer(0, frame, '', 1, dirty, append);
    conn.offer(1, frameOf(1), 'ep', 1, dirty);
    // The replay sent seq 1 itself: the append queued before it is older, and dropped.
    conn.lastSentSeq = 1;
    conn.goLive(1);
    expect(owedServed).toEqual([conn]);
    expect(conn.takeOwedSnapshots()).toEqual(['r1']);
  });
});
