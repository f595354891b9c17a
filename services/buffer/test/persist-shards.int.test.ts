import { InboxField, type RedisClient, createKeyLayout, createRedisClient } from '@agentwire/redis';
import {
  type RedisServer,
  type TestRedis,
  startRedis,
  startTestRedis,
  uniquePrefix,
} from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ShardEntry, persistShards } from '../src/persist-batch.js';
import { CONSUMER_GROUP } from '../src/shard-consumer.js';
import { ShardLease } from '../src/shard-lease.js';
import { persistSettings, shardEntry } from './support/persist-fixtures.js';

const settings = persistSettings;
const entry = shardEntry;

/** Two users that hash to different shards of a 16-shard layout. */
function usersOnTwoShards(keys: ReturnType<typeof createKeyLayout>): [string, string] {
  const first = 'user-0';
  for (let i = 1; i < 100; i++) {
    if (keys.shardOf(`user-${i}`) !== keys.shardOf(first)) return [first, `user-${i}`];
  }
  throw new Error('no second shard found');
}

describe('persist-batch script, several shards in one call (topology of the run)', () => {
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

  it('persists one shard and leaves a fenced one untouched, saying which', async () => {
    const keys = createKeyLayout(uniquePrefix('multi'), 16);
    const [a, b] = usersOnTwoShards(keys);
    const leaseA = new ShardLease(client, keys, keys.shardOf(a), 'r', 5000);
    expect(await leaseA.acquire()).toBe(true);
    // One shard per call on a cluster (its keys live in one slot): same outcome per shard.
    const batchA = {
      shard: keys.shardOf(a),
      leaseValue: leaseA.value as string,
      entries: [entry('1-1', 'a1', a), entry('1-2', 'a2', a)],
      skipped: [],
    };
    const batchB = {
      shard: keys.shardOf(b),
      leaseValue: 'r|999',
      entries: [entry('1-3', 'b1', b)],
      skipped: [],
    };
    const outA = await persistShards(client, keys, [batchA], settings, 'ep');
    const outB = await persistShards(client, keys, [batchB], settings, 'ep');
    const [doneA] = outA.shards;
    if (doneA?.status !== 'done') throw new Error(`shard A: ${doneA?.status}`);
    expect(doneA.mark).toBe(1);
    expect(doneA.forwards.map((f) => [f.userId, f.seq])).toEqual([
      [a, 1],
      [a, 2],
    ]);
    expect(outB.shards).toEqual([{ shard: batchB.shard, status: 'fenced' }]);
    expect(await client.exists(keys.userLog(b), keys.userMeta(b))).toBe(0);
  });
});

describe('persist-batch script on a single Redis: every shard and forwarding in one call', () => {
  let server: RedisServer;
  let client: RedisClient;
  beforeAll(async () => {
    server = await startRedis();
    client = createRedisClient({ url: server.url }, { name: 'persist-shards-test' });
  });
  afterAll(async () => {
    await client.quit();
    await server.stop();
  });

  async function pendingEntries(stream: string, ids: string[]): Promise<ShardEntry[]> {
    await client.xgroup('CREATE', stream, CONSUMER_GROUP, '0', 'MKSTREAM');
    const entries: ShardEntry[] = [];
    for (const eventId of ids) {
      const entryId = (await client.xadd(stream, '*', 'x', eventId)) as string;
      entries.push({ ...entry(entryId, eventId, ''), entryId });
    }
    await client.xreadgroup('GROUP', CONSUMER_GROUP, 'c', 'STREAMS', stream, '>');
    return entries;
  }

  it('sequences two shards, appends to the inbox of each routed node and acknowledges the entries', async () => {
    const keys = createKeyLayout(uniquePrefix('fwd'), 16);
    const [a, b] = usersOnTwoShards(keys);
    const shardA = keys.shardOf(a);
    const shardB = keys.shardOf(b);
    const leaseA = new ShardLease(client, keys, shardA, 'r', 5000);
    const leaseB = new ShardLease(client, keys, shardB, 'r', 5000);
    expect(await leaseA.acquire()).toBe(true);
    expect(await leaseB.acquire()).toBe(true);
    await client.hset(keys.userRoutes(a), 'edge-1', 1, 'edge-2', 1);
    await client.hset(keys.userRoutes(b), 'edge-2', 1);
    const entriesA = (await pendingEntries(keys.ingest(shardA), ['a1', 'a2', 'bad'])).map((e) => ({
      ...e,
      userId: a,
    }));
    const entriesB = (await pendingEntries(keys.ingest(shardB), ['b1'])).map((e) => ({
      ...e,
      userId: b,
      critical: false,
      body: `"id":"b1","critical":false,"name":"n","ts":1}`,
    }));
    const malformed = entriesA.pop() as ShardEntry;

    const outcome = await persistShards(
      client,
      keys,
      [
        {
          shard: shardA,
          leaseValue: leaseA.value as string,
          entries: entriesA,
          skipped: [malformed.entryId],
        },
        { shard: shardB, leaseValue: leaseB.value as string, entries: entriesB, skipped: [] },
      ],
      settings,
      'ep',
      { inboxMaxLen: 1000, group: CONSUMER_GROUP },
    );
    const noRun = { chunk: 0, runId: '', stream: '' };
    // Forwarded here: the reply names only the critical events, for the history memory.
    expect(outcome).toEqual({
      shards: [
        {
          shard: shardA,
          status: 'done',
          mark: 1,
          forwards: [
            { seq: 1, frame: '', epoch: 'ep', userId: a, nodes: [], ...noRun },
            { seq: 2, frame: '', epoch: 'ep', userId: a, nodes: [], ...noRun },
          ],
        },
        // Nothing appended to a log (one non-critical event): the mark stays.
        { shard: shardB, status: 'done', mark: 0, forwards: [] },
      ],
      processed: 3,
      duplicates: 0,
    });

    const inbox = async (node: string) =>
      (await client.xrange(keys.inbox(node), '-', '+')).map(([, fields]) => fields);
    expect(await inbox('edge-1')).toEqual([
      [
        InboxField.userId,
        a,
        InboxField.seq,
        '1',
        InboxField.frame,
        `{"type":"event","seq":1,"id":"a1","critical":true,"name":"n","ts":1}`,
        InboxField.epoch,
        'ep',
      ],
      [
        InboxField.userId,
        a,
        InboxField.seq,
        '2',
        InboxField.frame,
        `{"type":"event","seq":2,"id":"a2","critical":true,"name":"n","ts":1}`,
        InboxField.epoch,
        'ep',
      ],
    ]);
    const edge2 = await inbox('edge-2');
    expect(edge2.map((fields) => [fields[1], fields[3]])).toEqual([
      [a, '1'],
      [a, '2'],
      [b, '0'],
    ]);
    // Persisted, forwarded and acknowledged in one step: nothing is left pending.
    for (const shard of [shardA, shardB]) {
      const [count] = (await client.xpending(keys.ingest(shard), CONSUMER_GROUP)) as [number];
      expect(count).toBe(0);
    }
  });

  it('leaves a fenced shard pending and unforwarded while the other one goes through', async () => {
    const keys = createKeyLayout(uniquePrefix('fwdfence'), 16);
    const [a, b] = usersOnTwoShards(keys);
    const shardA = keys.shardOf(a);
    const shardB = keys.shardOf(b);
    const leaseA = new ShardLease(client, keys, shardA, 'r', 5000);
    expect(await leaseA.acquire()).toBe(true);
    await client.hset(keys.userRoutes(a), 'edge-1', 1);
    await client.hset(keys.userRoutes(b), 'edge-1', 1);
    const entriesA = (await pendingEntries(keys.ingest(shardA), ['a1'])).map((e) => ({
      ...e,
      userId: a,
    }));
    const entriesB = (await pendingEntries(keys.ingest(shardB), ['b1'])).map((e) => ({
      ...e,
      userId: b,
    }));

    const outcome = await persistShards(
      client,
      keys,
      [
        { shard: shardA, leaseValue: leaseA.value as string, entries: entriesA, skipped: [] },
        { shard: shardB, leaseValue: 'r|12345', entries: entriesB, skipped: [] },
      ],
      settings,
      'ep',
      { inboxMaxLen: 1000, group: CONSUMER_GROUP },
    );
    expect(outcome.shards.map((shard) => shard.status)).toEqual(['done', 'fenced']);
    expect(outcome.processed).toBe(1);
    const inbox = await client.xrange(keys.inbox('edge-1'), '-', '+');
    expect(inbox.map(([, fields]) => fields[1])).toEqual([a]);
    const [pendingB] = (await client.xpending(keys.ingest(shardB), CONSUMER_GROUP)) as [number];
    expect(pendingB).toBe(1);
    expect(await client.exists(keys.userLog(b))).toBe(0);
  });
});
