import { type ServiceProcess, type Stack, startStack, waitUntil } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SHARDS = 8;

async function ownedShards(buffer: ServiceProcess): Promise<number> {
  const text = await fetch(`${buffer.url}/metrics`).then((r) => r.text());
  return Number(/^aw_buffer_owned_shards\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? -1);
}

async function shares(buffers: ServiceProcess[]): Promise<number[]> {
  return Promise.all(buffers.map(ownedShards));
}

describe('shard ownership follows the replicas', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({
      edges: 0,
      buffers: 1,
      env: { SHARDS: String(SHARDS), LEASE_TTL_MS: '1000' },
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('spreads shards evenly as replicas join, and takes them all back when they leave', async () => {
    const [first] = stack.buffers as [ServiceProcess];
    await waitUntil(async () => (await ownedShards(first)) === SHARDS, 5000);

    const second = await stack.startBuffer();
    await waitUntil(async () => (await shares([first, second])).every((n) => n === 4), 8000);

    const third = await stack.startBuffer();
    // ceil(8 / 3) = 3: two replicas hold 3, one holds 2; never a shard without owner for long.
    await waitUntil(async () => {
      const owned = await shares([first, second, third]);
      return owned.reduce((a, b) => a + b, 0) === SHARDS && owned.every((n) => n >= 2 && n <= 3);
    }, 8000);

    await third.kill();
    await second.stop();
    await waitUntil(async () => (await ownedShards(first)) === SHARDS, 8000);
    expect(await ownedShards(first)).toBe(SHARDS);
  }, 40_000);
});
