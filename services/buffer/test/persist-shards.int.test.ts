import {
  InboxField,
  type RedisClient,
  appendToIngest,
  createKeyLayout,
  createRedisClient,
  ensureConsumerGroup,
  inboxEventEnd,
} from '@agentwire/redis';
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
import { type RawStreamEntries, parseShardEntries } from '../src/shard-entries.js';
import { ShardLease } from '../src/shard-lease.js';
import { persistSettings, shardEntry } from './support/persist-fixtures.js';

const settings = persistSettings;
const entry = shardEntry;

/** [user, seq] of each event an inbox entry holds, in order. */
function userAndSeqOfEvents(fields: readonly string[]): Array<[string, string]> {
  const events: Array<[string, string]> = [];
  for (let at = 0; at < fields.length; at = inboxEventEnd(fields, at)) {
    events.push([fields[at + 1] as string, fields[at + 3] as string]);
  }
  return events;
}

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

  it('order guard: refuses a batch while an older entry of its shard is pending elsewhere, then takes it in order', async () => {
    const keys = createKeyLayout(uniquePrefix('guard'), 16);
    const user = 'user-0';
    const shard = keys.shardOf(user);
    const stream = keys.ingest(shard);
    const lease = new ShardLease(client, keys, shard, 'r', 5000);
    expect(await lease.acquire()).toBe(true);
    await ensureConsumerGroup(client, stream, CONSUMER_GROUP);
    await appendToIngest(
      client,
      keys,
      ['g1', 'g2', 'g3'].map((id) => ({
        id,
        userId: user,
        critical: true,
        body: `"id":"${id}","critical":true,"name":"n","ts":1}`,
      })),
    );
    const readAs = async (consumer: string, from: string, count = 10) => {
      const reply = (await client.xreadgroup(
        'GROUP',
        CONSUMER_GROUP,
        consumer,
        'COUNT',
        count,
        'STREAMS',
        stream,
        from,
      )) as Array<[string, RawStreamEntries]>;
      const raw = reply[0]?.[1] ?? [];
      const batch = {
        shard,
        leaseValue: lease.value as string,
        entries: parseShardEntries(raw).entries,
        skipped: [],
        oldestReadId: raw[0]?.[0],
      };
      return batch;
    };
    // A stale read strands g1; the owner reads g2 and g3 after it.
    await readAs('stale', '>', 1);
    const newer = await readAs('owner', '>');
    const persist = (batch: typeof newer) =>
      persistShards(client, keys, [batch], settings, 'ep', undefined, CONSUMER_GROUP);

    const refused = await persist(newer);
    expect(refused.shards).toEqual([{ shard, status: 'pending-before' }]);
    expect(refused.processed).toBe(0);
    expect(await client.exists(keys.userLog(user))).toBe(0);

    // Claimed, the owner's pending entries are all three, oldest first.
    await client.xautoclaim(stream, CONSUMER_GROUP, 'owner', 0, '0-0');
    const all = await readAs('owner', '0');
    expect(all.entries.map((e) => e.eventId)).toEqual(['g1', 'g2', 'g3']);
    const done = await persist(all);
    const result = done.shards[0];
    expect(result?.status).toBe('done');
    const forwards = result?.status === 'done' ? result.forwards : [];
    expect(forwards.map((f) => [f.seq, (JSON.parse(f.frame) as { id: string }).id])).toEqual([
      [1, 'g1'],
      [2, 'g2'],
      [3, 'g3'],
    ]);
  });

  it('order guard: a stream without the consumer group has nothing pending', async () => {
    const keys = createKeyLayout(uniquePrefix('guardnogroup'), 16);
    const user = 'user-0';
    const shard = keys.shardOf(user);
    const lease = new ShardLease(client, keys, shard, 'r', 5000);
    expect(await lease.acquire()).toBe(true);
    await client.xadd(keys.ingest(shard), '*', 'x', 'y');
    const outcome = await persistShards(
      client,
      keys,
      [
        {
          shard,
          leaseValue: lease.value as string,
          entries: [entry('1-1', 'n1', user)],
          skipped: [],
          oldestReadId: '1-1',
        },
      ],
      settings,
      'ep',
      undefined,
      CONSUMER_GROUP,
    );
    expect(outcome.shards[0]?.status).toBe('done');
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
    expect(doneA.writtenUsers).toEqual([a]);
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
    // Forwarded here: the reply names only the users whose logs grew, for the history memory.
    expect(outcome).toEqual({
      shards: [
        {
          shard: shardA,
          status: 'done',
          mark: 1,
          forwards: [],
          writtenUsers: [a],
        },
        // Nothing appended to a log (one non-critical event): the mark stays.
        { shard: shardB, status: 'done', mark: 0, forwards: [], writtenUsers: [] },
      ],
      processed: 3,
      duplicates: 0,
    });

    const inbox = async (node: string) =>
      (await client.xrange(keys.inbox(node), '-', '+')).map(([, fields]) => fields);
    // One entry per node and call, its events in order.
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
    expect(edge2.map(userAndSeqOfEvents)).toEqual([
      [
        [a, '1'],
        [a, '2'],
        [b, '0'],
      ],
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

  describe('read mode: the script reads the new ingest entries itself', () => {
    const forwarding = { inboxMaxLen: 1000, group: CONSUMER_GROUP, consumer: 'reader' };
    const ingestEvent = (id: string, userId: string, critical = true) => ({
      id,
      userId,
      critical,
      body: `"id":"${id}","critical":${critical},"name":"n","ts":1}`,
    });

    async function leasedShards(prefix: string) {
      const keys = createKeyLayout(uniquePrefix(prefix), 16);
      const [a, b] = usersOnTwoShards(keys);
      const leases: ShardLease[] = [];
      for (const user of [a, b]) {
        const lease = new ShardLease(client, keys, keys.shardOf(user), 'r', 5000);
        expect(await lease.acquire()).toBe(true);
        await ensureConsumerGroup(client, keys.ingest(keys.shardOf(user)), CONSUMER_GROUP);
        await client.hset(keys.userRoutes(user), 'edge-1', 1);
        leases.push(lease);
      }
      const read = (count: number, leaseValueB?: string) => [
        { shard: keys.shardOf(a), leaseValue: leases[0]?.value as string, count },
        { shard: keys.shardOf(b), leaseValue: leaseValueB ?? (leases[1]?.value as string), count },
      ];
      return { keys, a, b, read };
    }

    it('reads up to COUNT per shard in order, forwards, skips malformed entries and leaves nothing pending', async () => {
      const { keys, a, b, read } = await leasedShards('readmode');
      const streamA = keys.ingest(keys.shardOf(a));
      await appendToIngest(client, keys, [ingestEvent('a1', a), ingestEvent('b1', b, false)]);
      // Not written by an edge (no user): skipped and counted, not blocking the shard.
      await client.xadd(streamA, '*', 'x', 'y');
      await appendToIngest(client, keys, [ingestEvent('a2', a), ingestEvent('a3', a)]);
      const idsA = (await client.xrange(streamA, '-', '+')).map(([id]) => id);

      const first = await persistShards(client, keys, read(2), settings, 'ep', forwarding);
      expect(first.shards).toEqual([
        {
          shard: keys.shardOf(a),
          status: 'done',
          mark: 1,
          forwards: [],
          writtenUsers: [a],
          read: { count: 2, malformed: 1, lastId: idsA[1] },
        },
        {
          shard: keys.shardOf(b),
          status: 'done',
          mark: 0,
          forwards: [],
          writtenUsers: [],
          read: expect.objectContaining({ count: 1, malformed: 0 }) as unknown,
        },
      ]);
      expect(first.processed).toBe(2);
      const second = await persistShards(client, keys, read(2), settings, 'ep', forwarding);
      expect(second.shards[0]).toMatchObject({ read: { count: 2, malformed: 0, lastId: idsA[3] } });
      // Nothing new: the id to wait after is the stream's newest.
      const idle = await persistShards(client, keys, read(2), settings, 'ep', forwarding);
      expect(idle.shards[0]).toMatchObject({ read: { count: 0, lastId: idsA[3] } });
      expect(idle.processed).toBe(0);

      // One entry per call.
      const inbox = await client.xrange(keys.inbox('edge-1'), '-', '+');
      expect(inbox.map(([, fields]) => userAndSeqOfEvents(fields))).toEqual([
        [
          [a, '1'],
          [b, '0'],
        ],
        [
          [a, '2'],
          [a, '3'],
        ],
      ]);
      for (const user of [a, b]) {
        const [pending] = (await client.xpending(
          keys.ingest(keys.shardOf(user)),
          CONSUMER_GROUP,
        )) as [number];
        expect(pending).toBe(0);
      }
    });

    it('reads nothing of a fenced shard, so its owner still gets every entry', async () => {
      const { keys, a, b, read } = await leasedShards('readfence');
      await appendToIngest(client, keys, [ingestEvent('a1', a), ingestEvent('b1', b)]);
      const fenced = await persistShards(
        client,
        keys,
        read(10, 'r|999'),
        settings,
        'ep',
        forwarding,
      );
      expect(fenced.shards.map((shard) => shard.status)).toEqual(['done', 'fenced']);
      expect(await client.exists(keys.userLog(b))).toBe(0);
      const owner = await persistShards(client, keys, read(10), settings, 'ep', forwarding);
      expect(owner.shards[1]).toMatchObject({ status: 'done', writtenUsers: [b] });
      expect(await client.xlen(keys.userLog(b))).toBe(1);
    });

    it('order guard: reads nothing of a shard while an entry of it is pending, the other shard goes on', async () => {
      const { keys, a, b, read } = await leasedShards('readguard');
      await appendToIngest(client, keys, [ingestEvent('a1', a), ingestEvent('b1', b)]);
      await appendToIngest(client, keys, [ingestEvent('a2', a)]);
      // A stale read strands a1 in the group.
      await client.xreadgroup(
        'GROUP',
        CONSUMER_GROUP,
        'stale',
        'COUNT',
        1,
        'STREAMS',
        keys.ingest(keys.shardOf(a)),
        '>',
      );
      const outcome = await persistShards(client, keys, read(10), settings, 'ep', forwarding);
      expect(outcome.shards.map((shard) => shard.status)).toEqual(['pending-before', 'done']);
      expect(await client.exists(keys.userLog(a))).toBe(0);
      expect(await client.xlen(keys.userLog(b))).toBe(1);
    });

    it('refuses read mode without forwarding (entries would be read and never forwarded)', async () => {
      const { keys, read } = await leasedShards('readnofwd');
      await expect(persistShards(client, keys, read(10), settings, 'ep')).rejects.toThrow(
        /read mode needs forwarding/,
      );
    });
  });
});
