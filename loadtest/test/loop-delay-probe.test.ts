import { describe, expect, it } from 'vitest';
import { LoopDelayProbe } from '../src/loop-delay-probe.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('LoopDelayProbe', () => {
  it('sees a blocked event loop in its max, and little delay otherwise', async () => {
    const probe = new LoopDelayProbe();
    probe.start();
    await sleep(100);
    const blockedUntil = Date.now() + 60;
    while (Date.now() < blockedUntil) {
      // A 60 ms stall of the generator's own loop.
    }
    await sleep(100);
    const delay = probe.stop();
    expect(delay.max).toBeGreaterThanOrEqual(40);
    expect(delay.max).toBeLessThan(1000);
    expect(delay.p50).toBeLessThan(delay.max);
  });

  it('has no figures when stopped before its first tick', () => {
    const probe = new LoopDelayProbe();
    probe.start();
    expect(probe.stop().p99).toBeNaN();
  });
});
