import { type RedisClient, Scripts, createKeyLayout } from '@agentwire/redis';
import { type TestRedis, startTestRedis, uniquePrefix } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PersistOutcome, persistBatch } from '../src/persist-batch.js';
import { ShardLease } from '../src/shard-lease.js';
import { persistSettings, shardEntry } from './support/persist-fixtures.js';

const settings = persistSettings;
const entry = shardEntry;

let redis: TestRedis;
let client: RedisClient;

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.createClient();
});

afterAll(async () => {
  await client.quit();
  await redis.stop();
});

function written(
  outcome: PersistOutcome,
): outcome is Extract<PersistOutcome, { historyLost: false }> {
  return !outcome.fenced && !outcome.historyLost;
}

async function leased(prefix: string, userId: string) {
  const keys = createKeyLayout(prefix, 4);
  const shard = keys.shardOf(userId);
  const lease = new ShardLease(client, keys, shard, 'replica-a', 5000);
  expect(await lease.acquire()).toBe(true);
  return { keys, shard, lease: lease.value as string };
}

describe('persist-batch script', () => {
  it('assigns contiguous seqs from 1 per user, in batch order, across batches', async () => {
    const { keys, shard, lease } = await leased(uniquePrefix('seq'), 'u1');
    const first = await persistBatch(
      client,
      keys,
      shard,
      lease,
      [entry('1-1', 'a', 'u1'), entry('1-2', 'b', 'u1'), entry('1-3', 'c', 'u1', false)],
      settings,
      'ep1',
    );
    const second = await persistBatch(
      client,
      keys,
      shard,
      lease,
      [entry('2-1', 'd', 'u1')],
      settings,
      'ep2',
    );
    if (first.fenced || first.historyLost || second.fenced || second.historyLost) {
      throw new Error('unexpectedly refused');
    }
    expect(first.forwards.map((f) => f.seq)).toEqual([1, 2, 0]);
    expect(second.forwards.map((f) => f.seq)).toEqual([3]);
    // The epoch is created once, with the first critical event.
    expect(second.forwards[0]?.epoch).toBe('ep1');
    expect(first.forwards[0]?.frame).toBe(
      '{"type":"event","seq":1,"id":"a","critical":true,"name":"n","ts":1}',
    );
    expect(first.forwards[2]?.frame).toBe(
      '{"type":"event","id":"c","critical":false,"name":"n","ts":1}',
    );
    const log = await client.xrange(keys.userLog('u1'), '-', '+');
    expect(log.map(([id]) => id)).toEqual(['1-0', '2-0', '3-0']);
  });

  it('delivers a repeated event id once, and forwards a redelivered entry again with its seq', async () => {
    const { keys, shard, lease } = await leased(uniquePrefix('dedupe'), 'u2');
    const first = await persistBatch(
      client,
      keys,
      shard,
      lease,
      [entry('5-1', 'x', 'u2')],
      settings,
      'e',
    );
    const repeat = await persistBatch(
      client,
      keys,
      shard,
      lease,
      [entry('6-1', 'x', 'u2')],
      settings,
      'e',
    );
    const redelivery = await persistBatch(
      client,
      keys,
      shard,
      lease,
      [entry('5-1', 'x', 'u2')],
      settings,
      'e',
    );
    if (!written(first) || !written(repeat) || !written(redelivery)) {
      throw new Error('unexpectedly refused');
    }
    expect(first.forwards.map((f) => f.seq)).toEqual([1]);
    expect(repeat.forwards).toEqual([]);
    expect(repeat.duplicates).toBe(1);
    expect(redelivery.forwards.map((f) => f.seq)).toEqual([1]);
    expect(await client.xlen(keys.userLog('u2'))).toBe(1);
  });

  it('reads the routes after writing the log and returns them per event', async () => {
    const { keys, shard, lease } = await leased(uniquePrefix('routes'), 'u3');
    await client.hset(keys.userRoutes('u3'), 'edge-a', 1, 'edge-b', 2);
    const outcome = await persistBatch(
      client,
      keys,
      shard,
      lease,
      [entry('1-1', 'r', 'u3')],
      settings,
      'e',
    );
    if (!written(outcome)) throw new Error('unexpectedly refused');
    expect(outcome.forwards[0]?.nodes.sort()).toEqual(['edge-a', 'edge-b']);
  });

  it('refuses to write without the current lease value (fencing)', async () => {
    const { keys, shard, lease } = await leased(uniquePrefix('fence'), 'u4');
    const stale = `${lease.split('|')[0]}|${Number(lease.split('|')[1]) + 7}`;
    const outcome = await persistBatch(
      client,
      keys,
      shard,
      stale,
      [entry('1-1', 'f', 'u4')],
      settings,
      'e',
    );
    expect(outcome).toEqual({ fenced: true });
    expect(await client.exists(keys.userLog('u4'), keys.userMeta('u4'))).toBe(0);
  });

  it('keeps at most RETENTION_MAX_EVENTS per user, oldest first out, with TTLs set', async () => {
    const { keys, shard, lease } = await leased(uniquePrefix('count'), 'u5');
    const small = { ...settings, retentionMaxEvents: 5 };
    const batch = Array.from({ length: 12 }, (_, i) => entry(`1-${i}`, `c${i}`, 'u5'));
    await persistBatch(client, keys, shard, lease, batch, small, 'e');
    const ids = (await client.xrange(keys.userLog('u5'), '-', '+')).map(([id]) => id);
    expect(ids).toEqual(['8-0', '9-0', '10-0', '11-0', '12-0']);
    expect(await client.pttl(keys.userLog('u5'))).toBeGreaterThan(0);
    expect(await client.pttl(keys.userMeta('u5'))).toBeGreaterThan(0);
  });

  it('trims entries older than RETENTION_MS from the head on append', async () => {
    const { keys, shard, lease } = await leased(uniquePrefix('time'), 'u6');
    // Each append refreshes the keys' TTL, so only entries older than the window are trimmed.
    const short = { ...settings, retentionMs: 400 };
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await persistBatch(client, keys, shard, lease, [entry('1-1', 't1', 'u6')], short, 'e');
    await sleep(250);
    await persistBatch(client, keys, shard, lease, [entry('2-1', 't2', 'u6')], short, 'e');
    await sleep(250);
    await persistBatch(client, keys, shard, lease, [entry('3-1', 't3', 'u6')], short, 'e');
    const ids = (await client.xrange(keys.userLog('u6'), '-', '+')).map(([id]) => id);
    expect(ids).toEqual(['2-0', '3-0']);
  });
});

describe('history mark (lost-write detection)', () => {
  it('counts batches that append and refuses a batch when the stored mark went backwards', async () => {
    const { keys, shard, lease } = await leased(uniquePrefix('mark'), 'u7');
    const one = await persistBatch(
      client,
      keys,
      shard,
      lease,
      [entry('1-1', 'm1', 'u7')],
      settings,
      'e',
    );
    const nonCritical = await persistBatch(
      client,
      keys,
      shard,
      lease,
      [entry('1-2', 'm2', 'u7', false)],
      settings,
      'e',
      written(one) ? one.mark : undefined,
    );
    if (!written(one) || !written(nonCritical)) throw new Error('unexpectedly refused');
    expect(one.mark).toBe(1);
    // Nothing appended: nothing to lose, the mark stays.
    expect(nonCritical.mark).toBe(1);

    // A failover takes the last batch back: the stored mark is below the remembered one.
    await client.set(keys.shardHistory(shard), '0');
    const refused = await persistBatch(
      client,
      keys,
      shard,
      lease,
      [entry('2-1', 'm3', 'u7')],
      settings,
      'e',
      1,
    );
    expect(refused).toEqual({ fenced: false, historyLost: true, storedMark: 0 });
    expect(await client.xlen(keys.userLog('u7'))).toBe(1);
  });

  it('rotate-epochs gives the listed users a new epoch and returns their latest event and routes', async () => {
    const { keys, shard, lease } = await leased(uniquePrefix('rotate'), 'u8');
    await client.hset(keys.userRoutes('u8'), 'edge-a', 1);
    await persistBatch(client, keys, shard, lease, [entry('1-1', 'r1', 'u8')], settings, 'old');
    const reply = await Scripts.rotateEpochs.run(
      client,
      [keys.shardHistory(shard)],
      [keys.shardBase(shard), 'new', 'listed', 'u8', 'nobody'],
    );
    expect(reply).toEqual([
      'u8',
      1,
      '{"type":"event","seq":1,"id":"r1","critical":true,"name":"n","ts":1}',
      1,
      'edge-a',
    ]);
    expect(await client.hmget(keys.userMeta('u8'), 'epoch', 'seq')).toEqual(['new', '1']);
  });
});

describe('shard lease', () => {
  it('has one holder at a time and a larger fencing token after a takeover', async () => {
    const keys = createKeyLayout(uniquePrefix('lease'), 4);
    const a = new ShardLease(client, keys, 1, 'replica-a', 300);
    const b = new ShardLease(client, keys, 1, 'replica-b', 300);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(await a.renew()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await b.acquire()).toBe(true);
    const tokenOf = (value: string | undefined): number => Number(value?.split('|')[1]);
    expect(tokenOf(b.value)).toBeGreaterThan(1);
    expect(await a.renew()).toBe(false);
    await b.release();
    expect(await client.exists(keys.lease(1))).toBe(0);
  });
});
