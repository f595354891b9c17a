import { createKeyLayout } from '@agentwire/redis';
import { type Stack, sleep, startStack } from '@agentwire/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { runDeliveryUnderFault } from './support/delivery-run.js';

const SHARDS = 4;
const GHOST_READS = 8;

/**
 * Reads new entries of every ingest shard as a consumer of the buffers'
 * group that never processes them: what a read does when it reaches Redis
 * after its sender lost the shard (a blocking read that ioredis sends again
 * once a failover is over, a read queued while Redis was away).
 */
async function strandEntries(stack: Stack): Promise<number> {
  const keys = createKeyLayout(stack.env.KEY_PREFIX as string, SHARDS);
  // One connection per shard: blocked reads on one connection would wait in line.
  const perShard = Array.from({ length: SHARDS }, async (_, shard) => {
    const client = stack.redis.createClient();
    let stranded = 0;
    try {
      for (let round = 0; round < GHOST_READS; round++) {
        // Blocked like the buffer's own wait, so it is served as soon as an entry arrives.
        const reply = (await client.xreadgroup(
          'GROUP',
          'buffer',
          'stale-reader',
          'COUNT',
          3,
          'BLOCK',
          500,
          'STREAMS',
          keys.ingest(shard),
          '>',
        )) as Array<[string, unknown[]]> | null;
        stranded += reply?.[0]?.[1].length ?? 0;
        await sleep(100);
      }
    } finally {
      client.disconnect();
    }
    return stranded;
  });
  const counts = await Promise.all(perShard);
  return counts.reduce((sum, n) => sum + n, 0);
}

describe('entries delivered to a consumer that never processes them (a stale read)', () => {
  let stack: Stack | undefined;

  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('are persisted before every newer entry of their shard: each user still gets every event once, in order', async () => {
    stack = await startStack({ env: { SHARDS: String(SHARDS), LOG_LEVEL: 'warn' } });
    const s = stack;
    let stranded = 0;
    const result = await runDeliveryUnderFault(s, {
      users: 12,
      eventsPerSecond: 300,
      durationMs: 4000,
      faultAt: 0.2,
      fault: async () => {
        stranded = await strandEntries(s);
      },
    });
    console.info(`stale reads took ${stranded} entries away from the buffer`);
    // The stale reads did take entries away from the buffer, and it noticed.
    expect(stranded).toBeGreaterThan(0);
    const metrics = await (await fetch(`${s.buffers[0]?.url}/metrics`)).text();
    const held = /^aw_buffer_stranded_reads_total(?:\{[^}]*\})? (\d+)/m.exec(metrics);
    expect(Number(held?.[1])).toBeGreaterThan(0);
    expect(result.accepted).toBe(1200);
  }, 60_000);
});
