import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientState, isAllowedTransition } from '../src/client-state.js';
import { createHarness, flush } from './client-harness.js';

describe('client state machine', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('moves closed -> connecting -> connected -> reconnecting -> connected -> closed', async () => {
    const h = createHarness();
    expect(h.client.state).toBe('closed');
    await h.connect();
    expect(h.client.state).toBe('connected');
    h.fake.last().serverClose(1006);
    await flush();
    expect(h.client.state).toBe('reconnecting');
    await h.accept();
    h.client.disconnect();
    expect(h.states).toEqual([
      { oldState: 'closed', newState: 'connecting' },
      { oldState: 'connecting', newState: 'connected' },
      { oldState: 'connected', newState: 'reconnecting' },
      { oldState: 'reconnecting', newState: 'connected' },
      { oldState: 'connected', newState: 'closed' },
    ]);
  });

  it('stays connecting while first attempts fail, and connect() twice is a no-op', async () => {
    const h = createHarness();
    h.client.connect();
    h.client.connect();
    await flush();
    expect(h.fake.sockets).toHaveLength(1);
    h.fake.last().serverClose(1006);
    await flush();
    expect(h.client.state).toBe('connecting');
    expect(h.fake.sockets).toHaveLength(2);
    h.client.disconnect();
    expect(h.states.map((s) => s.newState)).toEqual(['connecting', 'closed']);
  });

  it('disconnect() stops every retry', async () => {
    const h = createHarness({ random: () => 0.5 });
    await h.connect();
    h.fake.last().serverClose(1006);
    await flush();
    h.client.disconnect();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.fake.sockets).toHaveLength(1);
    expect(h.client.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('disconnect() closes the socket with a normal close and can connect again', async () => {
    const h = createHarness();
    const first = await h.connect();
    h.client.disconnect();
    expect(first.closedByClient?.code).toBe(1000);
    await h.connect();
    expect(h.client.state).toBe('connected');
    expect(h.fake.sockets).toHaveLength(2);
    h.client.disconnect();
  });

  it('survives disconnect() called from inside its own listeners', async () => {
    for (const event of ['welcome', 'disconnect', 'state'] as const) {
      const h = createHarness();
      let armed = false;
      h.client.on(event, () => {
        if (armed) h.client.disconnect();
      });
      await h.connect();
      armed = event !== 'welcome';
      if (event === 'welcome') {
        armed = true;
        h.fake.last().serverClose(1006);
        await h.accept();
      } else {
        h.fake.last().serverClose(1006);
      }
      await vi.advanceTimersByTimeAsync(60_000);
      expect(h.client.state).toBe('closed');
      expect(vi.getTimerCount()).toBe(0);
      expect(h.errors).toEqual([]);
    }
  });

  it('allows only the documented transitions', () => {
    const all = Object.values(ClientState);
    const allowed = all.flatMap((from) =>
      all.filter((to) => isAllowedTransition(from, to)).map((to) => `${from}->${to}`),
    );
    expect(allowed.sort()).toEqual(
      [
        'closed->connecting',
        'connecting->connected',
        'connecting->closed',
        'connected->reconnecting',
        'connected->closed',
        'reconnecting->connected',
        'reconnecting->closed',
      ].sort(),
    );
  });
});
