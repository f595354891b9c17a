import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CloseCode } from '@agentwire/protocol';
import { ProtocolViolationError, TokenError, UnauthorizedError } from '../src/index.js';
import { createHarness, flush, flushNested, URLS } from './client-harness.js';
import { criticalEvent } from './fake-web-socket.js';

describe('close codes and reconnects', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('rotates through the URL list on each attempt', async () => {
    const h = createHarness();
    await h.connect();
    h.fake.last().serverClose(1006);
    await flush();
    h.fake.last().serverClose(1006);
    await flush();
    expect(h.fake.sockets.map((s) => s.url)).toEqual([URLS[0], URLS[1], URLS[0]]);
    h.client.disconnect();
  });

  it('on 4001 asks getToken again and retries once with the fresh token', async () => {
    const h = createHarness();
    await h.connect();
    expect(h.getToken).toHaveBeenCalledTimes(1);
    h.fake.last().serverClose(CloseCode.Unauthorized, 'token expired');
    await flush();
    expect(h.getToken).toHaveBeenCalledTimes(2);
    const retry = await h.accept();
    expect(retry.framesOf('hello')[0]?.token).toBe('token-2');
    expect(h.client.state).toBe('connected');
    h.client.disconnect();
  });

  it('closes with UnauthorizedError when the fresh token is refused too', async () => {
    const h = createHarness();
    h.client.connect();
    await flush();
    h.fake.last().open();
    h.fake.last().serverClose(CloseCode.Unauthorized, 'bad token');
    await flush();
    h.fake.last().open();
    h.fake.last().serverClose(CloseCode.Unauthorized, 'bad token');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.client.state).toBe('closed');
    expect(h.fake.sockets).toHaveLength(2);
    expect(h.getToken).toHaveBeenCalledTimes(2);
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]).toBeInstanceOf(UnauthorizedError);
    expect(h.errors[0]?.name).toBe('UnauthorizedError');
    expect(h.disconnects.at(-1)).toMatchObject({ code: 4001, reconnectInMs: undefined });
  });

  it('closes on 4400 without retrying', async () => {
    const h = createHarness();
    await h.connect();
    h.fake.last().serverClose(CloseCode.ProtocolError, 'ack above sent seq');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(h.client.state).toBe('closed');
    expect(h.fake.sockets).toHaveLength(1);
    expect(h.errors[0]).toBeInstanceOf(ProtocolViolationError);
    expect(h.errors[0]?.message).toContain('ack above sent seq');
  });

  it('retries every other close code', async () => {
    const h = createHarness();
    await h.connect();
    const codes = [1006, 1011, 4008, 4009, 4029, 4408, 4503];
    for (const code of codes) {
      h.fake.last().serverClose(code);
      await h.accept();
    }
    expect(h.fake.sockets).toHaveLength(codes.length + 1);
    expect(h.client.state).toBe('connected');
    expect(h.errors).toEqual([]);
    h.client.disconnect();
  });

  it('honours a reconnect frame: keeps receiving for afterMs, then moves to the next URL', async () => {
    const h = createHarness({ random: () => 0.999_999 });
    const draining = await h.connect();
    const firstUrl = draining.url;
    draining.receive({ type: 'reconnect', afterMs: 3000 });
    await vi.advanceTimersByTimeAsync(2000);
    draining.receive(criticalEvent(1));
    await flush();
    expect(h.events).toHaveLength(1);
    expect(h.fake.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(draining.closedByClient).toBeDefined();
    await flushNested();
    expect(h.fake.sockets).toHaveLength(2);
    expect(h.fake.last().url).not.toBe(firstUrl);
    const next = await h.accept({ latestSeq: 1, oldestSeq: 1 });
    expect(next.framesOf('hello')[0]?.lastSeq).toBe(1);
    h.client.disconnect();
  });

  it('waits out afterMs when the draining node closes with 4503 first', async () => {
    const h = createHarness({ random: () => 0.999_999 });
    const draining = await h.connect();
    draining.receive({ type: 'reconnect', afterMs: 5000 });
    await vi.advanceTimersByTimeAsync(1000);
    draining.serverClose(CloseCode.Draining, 'draining');
    await flush();
    expect(h.disconnects.at(-1)?.reconnectInMs).toBe(4000);
    await vi.advanceTimersByTimeAsync(3999);
    expect(h.fake.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.fake.sockets).toHaveLength(2);
    h.client.disconnect();
  });

  it('treats two silent heartbeat intervals as a dead connection', async () => {
    const h = createHarness();
    const socket = await h.connect({ heartbeatMs: 1000 });
    await vi.advanceTimersByTimeAsync(1500);
    socket.receive({ type: 'heartbeat', ts: Date.now() });
    await vi.advanceTimersByTimeAsync(1999);
    expect(socket.closedByClient).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(socket.closedByClient).toBeDefined();
    expect(h.client.state).toBe('reconnecting');
    await flushNested();
    expect(h.fake.sockets).toHaveLength(2);
    h.client.disconnect();
  });

  it('gives up on an attempt that gets no welcome within connectTimeoutMs', async () => {
    const h = createHarness({ connectTimeoutMs: 2000 });
    h.client.connect();
    await flush();
    h.fake.last().open();
    await vi.advanceTimersByTimeAsync(2000);
    expect(h.fake.sockets[0]?.closedByClient).toBeDefined();
    await flushNested();
    expect(h.fake.sockets).toHaveLength(2);
    h.client.disconnect();
  });

  it('reconnect() drops the socket and resumes at once', async () => {
    const h = createHarness();
    const first = await h.connect();
    first.receive(criticalEvent(1));
    await flush();
    h.client.reconnect();
    expect(first.closedByClient).toBeDefined();
    const second = await h.accept({ latestSeq: 1, oldestSeq: 1 });
    expect(second.framesOf('hello')[0]).toMatchObject({ lastSeq: 1, epoch: 'e1' });
    h.client.disconnect();
  });

  it('retries with backoff when getToken fails', async () => {
    let calls = 0;
    const h = createHarness({
      getToken: () => {
        calls++;
        if (calls === 1) throw new Error('auth service down');
        return 'token-ok';
      },
      random: () => 0.5,
    });
    h.client.connect();
    await flush();
    expect(h.errors[0]).toBeInstanceOf(TokenError);
    expect(h.disconnects[0]?.reconnectInMs).toBe(50);
    await vi.advanceTimersByTimeAsync(49);
    expect(h.fake.sockets).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    const socket = await h.accept();
    expect(socket.framesOf('hello')[0]?.token).toBe('token-ok');
    h.client.disconnect();
  });
});
