import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { drainConnections, spreadReconnectDelays, type DrainableConnection } from '../src/drain.js';

class FakeDrainable implements DrainableConnection {
  announcedAfterMs: number | undefined;
  closedAt: number | undefined;
  closeCode: number | undefined;

  announceReconnect(afterMs: number): boolean {
    this.announcedAfterMs = afterMs;
    return true;
  }
  end(code: number): void {
    this.closeCode ??= code;
    this.closedAt ??= Date.now();
  }
}

describe('spreadReconnectDelays', () => {
  it('gives each connection a point of its own slot of the window, ascending', () => {
    const delays = spreadReconnectDelays(20, 2000, () => 0.5);
    expect(delays).toEqual(Array.from({ length: 20 }, (_, i) => i * 100 + 50));
  });

  it('stays within [0, window) for any random value', () => {
    for (const r of [0, 0.999999]) {
      const delays = spreadReconnectDelays(7, 1000, () => r);
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...delays)).toBeLessThan(1000);
      expect([...delays].sort((a, b) => a - b)).toEqual(delays);
    }
  });

  it('spreads even a few connections over the whole window', () => {
    const delays = spreadReconnectDelays(4, 10_000);
    expect(delays[0]).toBeLessThan(2500);
    expect(delays[3]).toBeGreaterThanOrEqual(7500);
  });

  it('handles no connections and a zero window', () => {
    expect(spreadReconnectDelays(0, 1000)).toEqual([]);
    expect(spreadReconnectDelays(3, 0)).toEqual([0, 0, 0]);
  });
});

describe('drainConnections', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('announces every reconnect at once and closes each with 4503 at its afterMs', async () => {
    const conns = Array.from({ length: 10 }, () => new FakeDrainable());
    let done = false;
    const drained = drainConnections(conns, 1000, () => 0.5).then((count) => {
      done = true;
      return count;
    });
    expect(conns.map((c) => c.announcedAfterMs)).toEqual(
      Array.from({ length: 10 }, (_, i) => i * 100 + 50),
    );
    expect(conns.every((c) => c.closedAt === undefined)).toBe(true);
    await vi.advanceTimersByTimeAsync(500);
    expect(conns.filter((c) => c.closedAt !== undefined)).toHaveLength(5);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(500);
    expect(await drained).toBe(10);
    for (const conn of conns) {
      expect(conn.closeCode).toBe(4503);
      expect(conn.closedAt).toBe(conn.announcedAfterMs);
    }
  });

  it('resolves at once without connections', async () => {
    await expect(drainConnections([], 1000)).resolves.toBe(0);
  });
});
