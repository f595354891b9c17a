import type { RedisClient } from '@agentwire/redis';
import { countKeys, startStack, usedMemory, waitUntil, type Stack } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Runs leave nothing behind (protocol.md section 9, RUN_TTL_MS): 500 runs
 * of 4 KB each, then, once their TTL has passed, Redis holds no key of them
 * and its used_memory is back where it was. Single topology only (it
 * measures one server; vitest.config.ts leaves it out of the cluster run).
 */
const RUN_TTL_MS = 1500;
/** Above RUN_TTL_MS plus its refresh interval (1 s): the stall job finds the runs expired, emits nothing and drops them from its index. */
const RUN_STALL_MS = 3000;
const RUNS = 500;
const USERS = 50;
const APPENDS_PER_RUN = 4;
/** 1 KB of two-byte characters per append: 4 KB of text per run. */
const APPEND_TEXT = 'ü'.repeat(512);
/** BullMQ's job records of the maintenance jobs come and go meanwhile. */
const MARGIN_BYTES = 100 * 1024;

let stack: Stack;
let client: RedisClient;

beforeAll(async () => {
  stack = await startStack({
    env: {
      RUN_TTL_MS: String(RUN_TTL_MS),
      RUN_STALL_MS: String(RUN_STALL_MS),
      // The append ids' dedupe keys are the other thing appends write: same lifetime here.
      DEDUPE_WINDOW_MS: String(RUN_TTL_MS),
      SHARD_MAINTENANCE_MS: '500',
      LOG_LEVEL: 'warn',
    },
  });
  client = stack.redis.createClient();
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await stack?.stop();
});

/** `runs` runs over USERS users, APPENDS_PER_RUN appends each, posted 200 events at a time. */
async function createRuns(label: string, runs: number, text: string): Promise<void> {
  const events = Array.from({ length: runs * APPENDS_PER_RUN }, (_, n) => {
    const run = n % runs;
    return {
      id: `${label}-${n}`,
      userId: `mem-${label}-${run % USERS}`,
      name: 'token',
      runId: `run-${run}`,
      append: text,
    };
  });
  for (let from = 0; from < events.length; from += 200) {
    const result = await stack.ingest(events.slice(from, from + 200));
    expect(result.status).toBe(202);
  }
}

const prefix = (): string => stack.env.KEY_PREFIX as string;
const runHashes = (): Promise<number> => countKeys(client, `${prefix()}:{s*}:r|*`);

async function runIndexMembers(): Promise<number> {
  let total = 0;
  for (let shard = 0; shard < Number(stack.env.SHARDS); shard++) {
    total += await client.zcard(`${prefix()}:{s${shard}}:running`);
  }
  return total;
}

async function ingestEntries(): Promise<number> {
  let total = 0;
  for (let shard = 0; shard < Number(stack.env.SHARDS); shard++) {
    total += await client.xlen(`${prefix()}:{s${shard}}:ingest`);
  }
  return total;
}

describe('run memory', () => {
  it('comes back to where it was once 500 runs of 4 KB passed RUN_TTL_MS', async () => {
    // A few small runs first, so scripts and lazily made structures are in the baseline.
    await createRuns('warm', 4, 'warm');
    await waitUntil(async () => (await runHashes()) === 4, 5000);
    const before = await usedMemory(client);

    await createRuns('main', RUNS, APPEND_TEXT);
    await waitUntil(async () => (await runHashes()) === 4 + RUNS, 10_000, 100);
    const loaded = await usedMemory(client);
    expect(loaded - before).toBeGreaterThan(
      RUNS * APPENDS_PER_RUN * Buffer.byteLength(APPEND_TEXT),
    );

    // Gone: run hashes, texts, the users' run sets, dedupe keys, the stall job's
    // index, and the ingest entries (trimmed down to the last one per shard).
    await waitUntil(
      async () =>
        (await countKeys(client, `${prefix()}:*mem-*`)) === 0 &&
        (await countKeys(client, `${prefix()}:{s*}:d:*`)) === 0 &&
        (await runIndexMembers()) === 0 &&
        (await ingestEntries()) <= Number(stack.env.SHARDS),
      RUN_STALL_MS + 8000,
      200,
      'every key of the runs gone',
    );
    const after = await usedMemory(client);
    console.info(
      `run memory: before ${Math.round(before / 1024)} KiB, with ${RUNS} runs ` +
        `${Math.round(loaded / 1024)} KiB, after their TTL ${Math.round(after / 1024)} KiB`,
    );
    expect(after).toBeLessThan(before + MARGIN_BYTES);
  }, 30_000);
});
