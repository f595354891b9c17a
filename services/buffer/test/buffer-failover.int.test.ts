import { type Stack, startStack } from '@agentwire/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { chaosLoad as load, runDeliveryUnderFault } from './support/delivery-run.js';

const LEASE_TTL_MS = 2000;

/** Sum of every shard's fencing counter: it grows by one per lease acquisition. */
async function fenceTokenSum(stack: Stack): Promise<number> {
  const client = stack.redis.createClient();
  try {
    const prefix = stack.env.KEY_PREFIX as string;
    let sum = 0;
    for (let shard = 0; shard < Number(stack.env.SHARDS); shard++) {
      sum += Number(await client.get(`${prefix}:{s${shard}}:fence`));
    }
    return sum;
  } finally {
    client.disconnect();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('buffer failover (2 buffers, 2 edges, 20 users, 500 critical events/s for 10 s)', () => {
  let stack: Stack | undefined;

  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  async function start(): Promise<Stack> {
    stack = await startStack({
      edges: 2,
      buffers: 2,
      env: { SHARDS: '8', LEASE_TTL_MS: String(LEASE_TTL_MS), LOG_LEVEL: 'warn' },
    });
    // Let both replicas settle on their share of the shards before the load starts.
    await sleep(LEASE_TTL_MS);
    return stack;
  }

  it('SIGKILL of a buffer mid-stream loses nothing and pauses delivery less than LEASE_TTL_MS + 1 s', async () => {
    const s = await start();
    const result = await runDeliveryUnderFault(s, {
      ...load,
      fault: async () => {
        await s.buffers[0]?.kill();
      },
    });
    expect(result.accepted).toBe(5000);
    console.info(`buffer SIGKILL: longest live-delivery pause ${result.longestPauseMs} ms`);
    expect(result.longestPauseMs).toBeLessThan(LEASE_TTL_MS + 1000);
  }, 90_000);

  it('a buffer paused (SIGSTOP) past its lease cannot write when it wakes (fencing), pausing delivery less than LEASE_TTL_MS + 1 s', async () => {
    const s = await start();
    const paused = s.buffers[0];
    let tokensBeforePause = Number.POSITIVE_INFINITY;
    const result = await runDeliveryUnderFault(s, {
      ...load,
      fault: async () => {
        tokensBeforePause = await fenceTokenSum(s);
        paused?.signal('SIGSTOP');
        await sleep(LEASE_TTL_MS + 1500);
        paused?.signal('SIGCONT');
      },
    });
    expect(result.accepted).toBe(5000);
    console.info(`buffer SIGSTOP: longest live-delivery pause ${result.longestPauseMs} ms`);
    // Taken over when the lease expires, like a SIGKILL: nothing waits for the paused replica to wake.
    expect(result.longestPauseMs).toBeLessThan(LEASE_TTL_MS + 1000);
    // The paused replica's shards were taken over while it slept: new fencing tokens were issued.
    expect(await fenceTokenSum(s)).toBeGreaterThan(tokensBeforePause);
  }, 90_000);
});
