import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, ServerError, type RunView } from '../src/index.js';
import { createHarness, flush } from './client-harness.js';
import { criticalEvent } from './fake-web-socket.js';
import { appendFrame, runEvent, snapshotFrame } from './run-frames.js';

/** A harness that also records every `run` event. */
function createRunHarness(options: Parameters<typeof createHarness>[0] = {}) {
  const h = createHarness(options);
  const runs: RunView[] = [];
  h.client.on('run', (run) => {
    runs.push(run);
  });
  return { ...h, runs };
}

describe('client: runs', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('streams appends into the run and sends one sync frame on a gap', async () => {
    const h = createRunHarness();
    const socket = await h.connect();
    socket.receive(criticalEvent(1, 'agent_started'));
    socket.receive(appendFrame(1, 'Hel', { stream: 'answer' }));
    socket.receive(appendFrame(2, 'lo', { stream: 'answer' }));
    expect(h.client.getRun('r1')?.streams.answer?.text).toBe('Hello');

    socket.receive(appendFrame(5, '!', { stream: 'answer' }));
    socket.receive(appendFrame(6, '?', { stream: 'answer' }));
    expect(socket.framesOf('sync')).toEqual([{ type: 'sync', runId: 'r1' }]);
    expect(h.client.getRun('r1')?.syncing).toBe(true);

    socket.receive(snapshotFrame('running', { answer: { text: 'Hello, w', chunks: 5 } }));
    expect(h.client.getRun('r1')).toMatchObject({
      status: 'running',
      syncing: false,
      streams: { answer: { text: 'Hello, w?', chunks: 6 } },
    });
    socket.receive(criticalEvent(2, 'agent_completed'));
    await flush();
    expect(h.client.getRun('r1')?.status).toBe('ended');
    expect(h.client.runs()).toEqual([h.client.getRun('r1')]);
    // One `run` event per change: start, two appends, the gap, the snapshot, the end.
    expect(h.runs.map((r) => r.status)).toEqual([
      'running',
      'running',
      'running',
      'running',
      'running',
      'ended',
    ]);
    // Appends are still events for the application.
    expect(h.events.filter((e) => e.name === 'token')).toHaveLength(4);
    expect(h.errors).toEqual([]);
    h.client.disconnect();
  });

  it('emits `run` before the frame reaches `event` handlers', async () => {
    const h = createRunHarness();
    const order: string[] = [];
    h.client.on('run', () => {
      order.push('run');
    });
    h.client.on('event', () => {
      order.push('event');
    });
    const socket = await h.connect();
    socket.receive(appendFrame(1, 'a'));
    await flush();
    expect(order).toEqual(['run', 'event']);
    h.client.disconnect();
  });

  it('restores runs from the snapshots after a reconnect and asks about runs they left out', async () => {
    const h = createRunHarness();
    const first = await h.connect();
    first.receive(criticalEvent(1, 'agent_started', 'kept'));
    first.receive(appendFrame(1, 'a', { runId: 'kept' }));
    first.receive(criticalEvent(2, 'agent_started', 'gone'));
    first.receive(appendFrame(1, 'x', { runId: 'gone' }));
    await flush();
    first.serverClose(1006);
    await flush();

    const second = await h.accept({ latestSeq: 4 });
    second.receive(snapshotFrame('running', { main: { text: 'abc', chunks: 3 } }, 'kept'));
    // Replayed: a stall of 'kept' the snapshot already accounts for, and the end of 'gone'.
    second.receive(runEvent('run_stalled', { seq: 3, runId: 'kept' }));
    second.receive(runEvent('agent_completed', { seq: 4, runId: 'gone' }));
    expect(h.client.getRun('kept')).toMatchObject({
      status: 'running',
      streams: { main: { text: 'abc' } },
    });
    // 'gone' ended while the client was away: its text may miss appends of that time.
    expect(second.framesOf('sync')).toEqual([{ type: 'sync', runId: 'gone' }]);
    second.receive(snapshotFrame('ended', { main: { text: 'xyz', chunks: 3 } }, 'gone'));
    expect(h.client.getRun('gone')).toMatchObject({
      status: 'ended',
      syncing: false,
      streams: { main: { text: 'xyz' } },
    });
    h.client.disconnect();
  });

  it('asks again for a sync lost with its connection once the welcome is quiet, without an event', async () => {
    const h = createRunHarness();
    const first = await h.connect();
    first.receive(criticalEvent(1, 'agent_started'));
    first.receive(appendFrame(1, 'Hel', { stream: 'answer' }));
    // The end says the answer has 3 chunks: a sync is sent, and its answer is lost with the socket.
    first.receive({ ...runEvent('agent_completed', { seq: 2 }), runChunks: { answer: 3 } });
    await flush();
    expect(first.framesOf('sync')).toEqual([{ type: 'sync', runId: 'r1' }]);
    first.serverClose(1006);
    await flush();

    // The run ended while the client was away: no snapshot, no event, no heartbeat yet.
    const second = await h.accept({ latestSeq: 2 });
    expect(second.framesOf('sync')).toEqual([]);
    await vi.advanceTimersByTimeAsync(300);
    expect(second.framesOf('sync')).toEqual([{ type: 'sync', runId: 'r1' }]);
    second.receive(snapshotFrame('ended', { answer: { text: 'Hello', chunks: 3 } }));
    expect(h.client.getRun('r1')).toMatchObject({
      status: 'ended',
      syncing: false,
      streams: { answer: { text: 'Hello' } },
    });
    h.client.disconnect();
  });

  it('sync() sends a frame, or waits for the next welcome when offline', async () => {
    const h = createRunHarness();
    h.client.sync('r7');
    expect(h.client.getRun('r7')).toMatchObject({ status: 'unknown', syncing: true });
    const socket = await h.connect();
    expect(socket.framesOf('sync')).toEqual([]);
    // After the snapshots of the welcome (a heartbeat says they are over).
    socket.receive({ type: 'heartbeat', ts: 1 });
    expect(socket.framesOf('sync')).toEqual([{ type: 'sync', runId: 'r7' }]);
    h.client.sync('r7');
    expect(socket.framesOf('sync')).toHaveLength(2);
    socket.receive(snapshotFrame('unknown', {}, 'r7'));
    expect(h.client.getRun('r7')).toMatchObject({ status: 'unknown', syncing: false });
    h.client.disconnect();
  });

  it('reports malformed snapshots and appends instead of applying them', async () => {
    const h = createRunHarness();
    const socket = await h.connect();
    socket.receive({ type: 'snapshot', runId: 'r1', status: 'done', streams: {} });
    socket.receive({
      type: 'snapshot',
      runId: 'r1',
      status: 'running',
      streams: { a: { text: 1 } },
    });
    socket.receive({ ...appendFrame(1, 'a'), chunk: 0 });
    socket.receive({ ...appendFrame(1, 'a'), append: 5 });
    await flush();
    expect(h.errors).toHaveLength(4);
    expect(h.errors.every((e) => e instanceof ServerError)).toBe(true);
    expect(h.runs).toEqual([]);
    h.client.disconnect();
  });

  it('validates its run options', () => {
    expect(() => createHarness({ maxRuns: 0 })).toThrow(ConfigError);
    expect(() => createHarness({ maxRunTextLength: 1.5 })).toThrow(ConfigError);
    expect(() => createHarness({ runEndEvents: [''] })).toThrow(ConfigError);
    expect(() => createHarness({ runEndEvents: ['done'], maxRuns: 1 })).not.toThrow();
  });
});
