import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HelloFrame } from '@agentwire/protocol';
import { HandlerError, memoryStore, type GapInfo, type ResyncInfo } from '../src/index.js';
import { createHarness, flush, seqs } from './client-harness.js';
import { criticalEvent, tokenEvent } from './fake-web-socket.js';

function hello(socket: { framesOf(type: 'hello'): HelloFrame[] }): HelloFrame | undefined {
  return socket.framesOf('hello')[0];
}

describe('resume, dedupe and ordering', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('starts live without lastSeq and takes welcome.latestSeq as its position', async () => {
    const h = createHarness();
    const socket = await h.connect({ latestSeq: 45, oldestSeq: 3, epoch: 'k3x9' });
    expect(hello(socket)).toEqual({ type: 'hello', token: 'token-1' });
    expect(h.client.position).toEqual({ lastSeq: 45, epoch: 'k3x9' });
    socket.receive(criticalEvent(46));
    await flush();
    expect(seqs(h.events)).toEqual([46]);
    h.client.disconnect();
  });

  it('resumes from the stored position with lastSeq and epoch', async () => {
    const h = createHarness({ store: memoryStore({ lastSeq: 41, epoch: 'k3x9' }) });
    const socket = await h.connect({ latestSeq: 45, oldestSeq: 3, epoch: 'k3x9' });
    expect(hello(socket)).toEqual({ type: 'hello', token: 'token-1', lastSeq: 41, epoch: 'k3x9' });
    for (const seq of [42, 43, 44, 45]) socket.receive(criticalEvent(seq));
    await flush();
    expect(seqs(h.events)).toEqual([42, 43, 44, 45]);
    h.client.disconnect();
  });

  it('delivers each critical event once and in order across a reconnect', async () => {
    const store = memoryStore();
    const h = createHarness({ store });
    const first = await h.connect({ latestSeq: 0 });
    for (const seq of [1, 2, 3, 2, 3]) first.receive(criticalEvent(seq));
    first.receive(criticalEvent(4));
    await flush();
    first.serverClose(1006);
    await flush();
    const second = await h.accept({ latestSeq: 6, oldestSeq: 1 });
    expect(hello(second)).toMatchObject({ lastSeq: 4, epoch: 'e1' });
    // An at-least-once server may send seen seqs again; none reach the application.
    for (const seq of [3, 4, 5, 6, 6]) second.receive(criticalEvent(seq));
    await flush();
    expect(seqs(h.events)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(h.client.position).toEqual({ lastSeq: 6, epoch: 'e1' });
    expect(await store.load()).toEqual({ lastSeq: 6, epoch: 'e1' });
    h.client.disconnect();
  });

  it('keeps non-critical events in order with critical ones', async () => {
    const h = createHarness();
    const socket = await h.connect();
    socket.receive(criticalEvent(1, 'agent_started'));
    socket.receive(tokenEvent('Hel'));
    socket.receive(tokenEvent('lo'));
    socket.receive(criticalEvent(2, 'agent_completed'));
    await flush();
    expect(h.events.map((e) => e.name)).toEqual([
      'agent_started',
      'token',
      'token',
      'agent_completed',
    ]);
    h.client.disconnect();
  });

  it('runs async handlers one at a time, in order', async () => {
    const h = createHarness();
    const log: string[] = [];
    h.client.on('event', async (event) => {
      log.push(`start ${event.seq}`);
      await new Promise((resolve) => setTimeout(resolve, event.seq === 1 ? 500 : 10));
      log.push(`end ${event.seq}`);
    });
    const socket = await h.connect();
    socket.receive(criticalEvent(1));
    socket.receive(criticalEvent(2));
    await vi.advanceTimersByTimeAsync(1000);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    h.client.disconnect();
  });

  it('treats a skipped seq as a gap: not delivered, reconnects and resumes', async () => {
    const h = createHarness();
    const gaps: GapInfo[] = [];
    h.client.on('gap', (gap) => {
      gaps.push(gap);
    });
    const first = await h.connect();
    first.receive(criticalEvent(1));
    first.receive(criticalEvent(2));
    first.receive(criticalEvent(4));
    first.receive(criticalEvent(5)); // Ignored: the socket was given up.
    await flush();
    expect(seqs(h.events)).toEqual([1, 2]);
    expect(gaps).toEqual([{ expected: 3, received: 4 }]);
    expect(first.closedByClient).toBeDefined();
    expect(h.client.state).toBe('reconnecting');
    const second = await h.accept({ latestSeq: 5, oldestSeq: 1 });
    expect(hello(second)).toMatchObject({ lastSeq: 2 });
    for (const seq of [3, 4, 5]) second.receive(criticalEvent(seq));
    await flush();
    expect(seqs(h.events)).toEqual([1, 2, 3, 4, 5]);
    h.client.disconnect();
  });

  it('resets to the new epoch before its replay and asks for a resync', async () => {
    const h = createHarness({ store: memoryStore({ lastSeq: 300, epoch: 'old' }) });
    const resyncs: ResyncInfo[] = [];
    const order: string[] = [];
    h.client.on('resync', (info) => {
      resyncs.push(info);
      order.push('resync');
    });
    h.client.on('event', (event) => {
      order.push(`event ${event.seq}`);
    });
    const socket = await h.connect({ epoch: 'new', latestSeq: 3, oldestSeq: 1, resumed: false });
    for (const seq of [1, 2, 3]) socket.receive(criticalEvent(seq));
    await flush();
    expect(order).toEqual(['resync', 'event 1', 'event 2', 'event 3']);
    expect(resyncs[0]?.previous).toEqual({ lastSeq: 300, epoch: 'old' });
    expect(resyncs[0]?.position).toEqual({ lastSeq: 0, epoch: 'new' });
    expect(h.client.position).toEqual({ lastSeq: 3, epoch: 'new' });
    h.client.disconnect();
  });

  it('continues from oldestSeq after retention loss without calling it a gap', async () => {
    const h = createHarness({ store: memoryStore({ lastSeq: 2, epoch: 'e1' }) });
    const socket = await h.connect({ latestSeq: 12, oldestSeq: 10, resumed: false });
    for (const seq of [10, 11, 12]) socket.receive(criticalEvent(seq));
    await flush();
    expect(seqs(h.events)).toEqual([10, 11, 12]);
    expect(h.fake.sockets).toHaveLength(1);
    h.client.disconnect();
  });

  it('does not redeliver an event still queued from the previous connection', async () => {
    const h = createHarness();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    h.client.on('event', async (event) => {
      if (event.seq === 1) await gate;
    });
    const first = await h.connect();
    first.receive(criticalEvent(1));
    first.receive(criticalEvent(2));
    await flush();
    first.serverClose(1006);
    const second = await h.accept({ latestSeq: 2, oldestSeq: 1 });
    // Events 1 and 2 are already in hand: the resume starts after them.
    expect(hello(second)).toMatchObject({ lastSeq: 2 });
    second.receive(criticalEvent(2));
    second.receive(criticalEvent(3));
    release();
    await flush();
    expect(seqs(h.events)).toEqual([1, 2, 3]);
    h.client.disconnect();
  });

  it('reports a failing handler and still moves on', async () => {
    const h = createHarness();
    h.client.on('event', (event) => {
      if (event.seq === 1) throw new Error('boom');
    });
    const socket = await h.connect();
    socket.receive(criticalEvent(1));
    socket.receive(criticalEvent(2));
    await flush();
    expect(seqs(h.events)).toEqual([1, 2]);
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]).toBeInstanceOf(HandlerError);
    expect(h.errors[0]?.name).toBe('HandlerError');
    expect(h.client.position?.lastSeq).toBe(2);
    h.client.disconnect();
  });
});
