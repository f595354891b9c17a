import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, memoryStore } from '../src/index.js';
import { createHarness, flush } from './client-harness.js';
import { criticalEvent, tokenEvent } from './fake-web-socket.js';

describe('acknowledgements', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends one cumulative ack per batch interval', async () => {
    const h = createHarness({ ackIntervalMs: 1000 });
    const socket = await h.connect();
    for (const seq of [1, 2, 3]) socket.receive(criticalEvent(seq));
    socket.receive(tokenEvent('x'));
    await vi.advanceTimersByTimeAsync(999);
    expect(socket.framesOf('ack')).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.framesOf('ack')).toEqual([{ type: 'ack', seq: 3 }]);
    socket.receive(criticalEvent(4));
    await vi.advanceTimersByTimeAsync(1000);
    expect(socket.framesOf('ack')).toEqual([
      { type: 'ack', seq: 3 },
      { type: 'ack', seq: 4 },
    ]);
    // Nothing new processed: no further ack.
    await vi.advanceTimersByTimeAsync(5000);
    expect(socket.framesOf('ack')).toHaveLength(2);
    h.client.disconnect();
  });

  it('acks and moves the position only after the async handler resolved', async () => {
    const h = createHarness({ ackIntervalMs: 100 });
    let release: () => void = () => undefined;
    h.client.on('event', async (event) => {
      if (event.seq === 2) {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      }
    });
    const socket = await h.connect();
    socket.receive(criticalEvent(1));
    socket.receive(criticalEvent(2));
    socket.receive(criticalEvent(3));
    await vi.advanceTimersByTimeAsync(2000);
    // Handler for 2 still running: only 1 is processed.
    expect(h.client.position?.lastSeq).toBe(1);
    expect(socket.framesOf('ack')).toEqual([{ type: 'ack', seq: 1 }]);
    release();
    await flush();
    expect(h.client.position?.lastSeq).toBe(3);
    expect(socket.framesOf('ack')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(socket.framesOf('ack')).toEqual([
      { type: 'ack', seq: 1 },
      { type: 'ack', seq: 3 },
    ]);
    h.client.disconnect();
  });

  it('acks every event at once with ackIntervalMs 0', async () => {
    const h = createHarness({ ackIntervalMs: 0 });
    const socket = await h.connect();
    socket.receive(criticalEvent(1));
    socket.receive(criticalEvent(2));
    await flush();
    expect(socket.framesOf('ack').map((a) => a.seq)).toEqual([1, 2]);
    h.client.disconnect();
  });

  it('never acks above what the connection was sent or resumed from', async () => {
    // A live start takes latestSeq as its position but was sent nothing yet.
    const h = createHarness({ ackIntervalMs: 0 });
    const live = await h.connect({ latestSeq: 45 });
    await vi.advanceTimersByTimeAsync(5000);
    expect(live.framesOf('ack')).toEqual([]);
    h.client.disconnect();

    // Resuming into a new epoch positions before its oldest seq; nothing to ack until sent.
    const k = createHarness({ ackIntervalMs: 0, store: memoryStore({ lastSeq: 5, epoch: 'a' }) });
    const socket = await k.connect({ epoch: 'b', latestSeq: 200, oldestSeq: 100, resumed: false });
    await vi.advanceTimersByTimeAsync(5000);
    expect(socket.framesOf('ack')).toEqual([]);
    socket.receive(criticalEvent(100));
    await flush();
    expect(socket.framesOf('ack')).toEqual([{ type: 'ack', seq: 100 }]);
    k.client.disconnect();
  });

  it('flushes the pending ack on disconnect()', async () => {
    const h = createHarness({ ackIntervalMs: 2000 });
    const socket = await h.connect();
    socket.receive(criticalEvent(1));
    await flush();
    h.client.disconnect();
    expect(socket.framesOf('ack')).toEqual([{ type: 'ack', seq: 1 }]);
  });

  it('refuses an ack interval over half the server ack timeout', () => {
    expect(() => createHarness({ ackIntervalMs: 2501 })).toThrow(ConfigError);
  });
});
