import {
  type KeyLayout,
  type RedisClient,
  type RedisTarget,
  type ReplicationPolicy,
  ReplicationTimeoutError,
  connectionGeneration,
  createBlockingClient,
  ensureConsumerGroup,
  replicate,
} from '@agentwire/redis';
import type { Logger } from '@agentwire/telemetry';
import { FreshEpochs } from './fresh-epochs.js';
import type { ShardHistoryMemory } from './history-memory.js';
import { forwardToInboxes } from './inbox-forwarder.js';
import { recoverLostHistory } from './lost-history.js';
import type { BufferMetrics } from './metrics.js';
import {
  type Forward,
  type PersistSettings,
  type ShardBatch,
  type ShardRead,
  type ShardsOutcome,
  type ScriptForwarding,
  persistShards,
} from './persist-batch.js';
import { type RawStreamEntries, parseShardEntries } from './shard-entries.js';
import { sleepUnlessAborted } from './sleep-unless-aborted.js';
import type { ShardLease } from './shard-lease.js';

export const CONSUMER_GROUP = 'buffer';

export interface ShardConsumerOptions {
  client: RedisClient;
  target: RedisTarget;
  keys: KeyLayout;
  consumerName: string;
  batchSize: number;
  inboxMaxLen: number;
  persist: PersistSettings;
  leaseTtlMs: number;
  /**
   * Forward inside the persist script (one atomic call per batch). Only
   * where the script may write other slots' keys (a single Redis) and no
   * replication wait has to come between persisting and forwarding.
   */
  forwardInScript: boolean;
  /** MIN_REPLICAS / REPLICA_WAIT_MS: a batch is forwarded only once replicated. */
  replication: ReplicationPolicy;
  /** What this process wrote to each shard (lost-write detection). */
  history: ShardHistoryMemory;
  metrics: BufferMetrics;
  logger: Logger;
  /** Called when the persist script says a lease is gone: stop that shard. */
  onFenced: (shard: number) => void;
}

/** Re-claim entries other consumers hold (a fenced replica's reads) this often. */
const RECLAIM_INTERVAL_MS = 1000;
/** With no readable shard, how long to wait before looking at the leases again. */
const IDLE_POLL_MS = 25;
/** Smallest COUNT per stream of one read, however many shards share it. */
const MIN_COUNT_PER_SHARD = 32;

interface Member {
  lease: ShardLease;
  stream: string;
  /** Pending entries (a previous owner's, or ours after a failure) come first. */
  pendingFirst: boolean;
  lastClaim: number;
  /**
   * Read mode: entries newer than this id are unread (the script's last
   * answer for the shard); undefined until the script has read it once.
   */
  readAfter: string | undefined;
  /** Read mode: the script's last call read a full COUNT of this shard: call again at once. */
  moreToRead: boolean;
}

/**
 * Processes a set of shards while this replica holds their leases. On a
 * single Redis one consumer serves every shard the replica owns: one
 * XREADGROUP over all their streams and one script call per batch, so at
 * moderate rates batches hold many events instead of one per shard. On a
 * cluster each shard has its own consumer (its keys live on one node).
 *
 * Per shard, first every entry a previous owner left pending (claimed to
 * this consumer), then new ones. Per batch: persist (seq, log, dedupe,
 * routes) -> replicate (WAIT for MIN_REPLICAS) -> forward to inboxes ->
 * XACK; one script call for all of it when forwarding in the script (a
 * single Redis, MIN_REPLICAS=0). A crash anywhere before XACK means
 * redelivery to the next owner.
 */
export class ShardConsumer {
  private readonly members = new Map<number, Member>();
  private readonly epochs = new FreshEpochs();
  /**
   * A blocking read is only issued while every lease read has more than
   * this left, and never blocks longer: whatever Redis delivers to this
   * consumer is delivered while the lease is still ours, so a takeover's
   * XAUTOCLAIM always finds it. A read ioredis sends again after a lost
   * connection breaks that; the persist script's order guard covers it.
   */
  private readonly blockMs: number;
  private blocking: RedisClient | undefined;
  /** CLIENT ID of the blocking connection, to interrupt a read when the set changes. */
  private blockingId: number | undefined;
  /** Resolves when run()'s signal aborts. */
  private aborted: Promise<undefined> = new Promise(() => undefined);
  /** Settles when the current loop iteration ends. */
  private iteration: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  /**
   * Connections of this consumer's clients lost so far. A read whose
   * connection dropped may have been delivered (its entries added to our
   * pending list) with the reply lost; ioredis then sends it again, and the
   * second answer holds only newer entries. Processing those first would
   * break the shard's order, so a read that spans a lost connection is not
   * processed: the pending list is drained first, in order.
   */
  private connectionLosses = 0;

  constructor(private readonly options: ShardConsumerOptions) {
    this.blockMs = Math.max(50, Math.min(2000, Math.floor(options.leaseTtlMs / 4)));
  }

  get size(): number {
    return this.members.size;
  }

  /** Starts processing a shard whose lease was just acquired. */
  add(lease: ShardLease): void {
    this.members.set(lease.shard, {
      lease,
      stream: this.options.keys.ingest(lease.shard),
      pendingFirst: true,
      lastClaim: 0,
      readAfter: undefined,
      moreToRead: false,
    });
    this.interrupt();
  }

  /** Stops processing a shard; resolves once no batch of it is in flight. */
  async remove(shard: number): Promise<void> {
    if (!this.members.delete(shard)) return;
    this.interrupt();
    await this.iteration;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { options } = this;
    const blocking = createBlockingClient(options.target, `${options.consumerName}:shards`);
    this.blocking = blocking;
    blocking.on('error', () => undefined);
    const onLost = (): void => {
      this.connectionLosses++;
      this.forgetReadPositions();
    };
    blocking.on('close', () => {
      this.blockingId = undefined;
      onLost();
    });
    // Reads also go to the shared client while the own connection opens.
    const lostEvents = ['close', '-node'] as const;
    for (const event of lostEvents) options.client.on(event, onLost);
    blocking.on('-node', onLost);
    // Disconnecting ends a pending read, except while ioredis waits to
    // reconnect (Redis down): it then keeps the read queued and never settles
    // it. Reads are also raced against the abort, so a stop never waits for one.
    let resolveAborted: () => void = () => undefined;
    this.aborted = new Promise((resolve) => {
      resolveAborted = () => resolve(undefined);
    });
    const unblock = (): void => {
      resolveAborted();
      this.wake?.();
      blocking.disconnect();
    };
    signal.addEventListener('abort', unblock);
    let failures = 0;
    try {
      while (!signal.aborted) {
        let finish: () => void = () => undefined;
        this.iteration = new Promise((resolve) => (finish = resolve));
        try {
          await this.step(blocking, signal);
          failures = 0;
        } catch (error) {
          if (signal.aborted) break;
          failures++;
          this.forgetReadPositions();
          if (failures === 1 || failures % 50 === 0) {
            options.logger.warn(
              { err: error, shards: [...this.members.keys()] },
              'shard read failed',
            );
          }
          await sleepUnlessAborted(Math.min(100 * failures, 1000), signal);
        } finally {
          finish();
        }
      }
    } finally {
      signal.removeEventListener('abort', unblock);
      for (const event of lostEvents) options.client.off(event, onLost);
      blocking.disconnect();
      this.blocking = undefined;
    }
  }

  /** One iteration: pending entries of shards that need it, else one read of new entries. */
  private async step(blocking: RedisClient, signal: AbortSignal): Promise<void> {
    const now = Date.now();
    const readable: Member[] = [];
    for (const member of this.members.values()) {
      // Paused past the lease, or renewals failing: read nothing of it until renewed or stopped.
      if (member.lease.remainingMs(now) > this.blockMs) readable.push(member);
    }
    if (readable.length === 0) {
      await this.idle(signal);
      return;
    }
    const claiming = readable.filter(
      (member) => member.pendingFirst || now - member.lastClaim > RECLAIM_INTERVAL_MS,
    );
    if (claiming.length > 0) {
      await this.claimAndDrain(claiming, signal);
      return;
    }
    if (this.options.forwardInScript) {
      await this.readInScript(blocking, readable, signal);
      return;
    }

    // Right after start the blocking connection may still be opening:
    // read on the shared client meanwhile instead of waiting for it.
    const ownReady = await this.blockingReady(blocking);
    const losses = this.connectionLosses;
    const read = this.readNew(ownReady ? blocking : this.options.client, readable, ownReady);
    read.catch(() => undefined); // may settle after an abort, when nobody waits for it
    const raw = await Promise.race([read, this.aborted]);
    if (signal.aborted) return;
    // Spanned a lost connection: leave it pending; the next step drains the pending list in order.
    if (this.connectionLosses !== losses) return;
    if (raw === undefined) {
      if (!ownReady) await sleepUnlessAborted(10, signal);
      return;
    }
    await this.processBatch(raw);
  }

  /**
   * Whether the own blocking connection is open (right after start it may
   * still be opening: reads then go to the shared client, without BLOCK);
   * learns its CLIENT ID once, for interrupt().
   */
  private async blockingReady(blocking: RedisClient): Promise<boolean> {
    const ready = blocking.status === 'ready';
    if (ready && this.blockingId === undefined) {
      this.blockingId = Number(await blocking.call('CLIENT', 'ID'));
    }
    return ready;
  }

  /** After a failure or a lost connection: drain pending entries, then read afresh. */
  private forgetReadPositions(): void {
    for (const member of this.members.values()) {
      member.pendingFirst = true;
      member.readAfter = undefined;
    }
  }

  /**
   * Read mode (forwarding in the script): the persist script reads the new
   * entries itself. The buffer only waits, with a one-entry XREAD on every
   * stream after the id the script last reported, and then calls the script
   * for the shards that XREAD named: a call's cost is mostly per shard
   * (lease, mark, read), and at moderate rates one or two of 16 shards have
   * something new (profiled at 2,000/s: 16 shards per call cost Redis 150 µs
   * and the buffer 120 µs per event). Under load (a shard's last call read a
   * full COUNT, or a shard was never read) every readable shard is called
   * back to back, without waiting.
   */
  private async readInScript(
    blocking: RedisClient,
    readable: Member[],
    signal: AbortSignal,
  ): Promise<void> {
    if (readable.some((member) => member.moreToRead || member.readAfter === undefined)) {
      await this.persistRead(readable);
      return;
    }
    const ownReady = await this.blockingReady(blocking);
    const args: Array<string | number> = ['COUNT', 1];
    if (ownReady) args.push('BLOCK', this.blockMs);
    args.push('STREAMS');
    for (const member of readable) args.push(member.stream);
    for (const member of readable) args.push(member.readAfter as string);
    const reader = ownReady ? blocking : this.options.client;
    const xread = reader.xread.bind(reader) as (
      ...args: Array<string | number>
    ) => Promise<Array<[string, unknown]> | null>;
    const read = xread(...args);
    read.catch(() => undefined); // may settle after an abort, when nobody waits for it
    const woke = await Promise.race([read, this.aborted]);
    if (signal.aborted) return;
    if (woke === null || woke === undefined) {
      if (!ownReady) await sleepUnlessAborted(10, signal);
      return;
    }
    const named = readable.filter((member) => woke.some(([stream]) => stream === member.stream));
    // The shards not named still have their entries after readAfter: the next XREAD returns at once.
    await this.persistRead(named.length > 0 ? named : readable);
  }

  /** Hot path of read mode: one script call reads, persists and forwards the given shards. */
  private async persistRead(readable: readonly Member[]): Promise<void> {
    const { options } = this;
    const count = this.countPerShard(this.members.size);
    const reads: ShardRead[] = [];
    const members = new Map<number, Member>();
    for (const member of readable) {
      member.moreToRead = false;
      const leaseValue = member.lease.value;
      if (leaseValue === undefined) continue;
      const shard = member.lease.shard;
      reads.push({ shard, leaseValue, expectedMark: options.history.expectedMark(shard), count });
      members.set(shard, member);
    }
    if (reads.length === 0) return;
    const outcome = await this.persist(reads, {
      inboxMaxLen: options.inboxMaxLen,
      group: CONSUMER_GROUP,
      consumer: options.consumerName,
    });
    let malformed = 0;
    for (const result of outcome.shards) {
      const member = members.get(result.shard);
      if (result.status === 'fenced') {
        options.onFenced(result.shard);
      } else if (result.status === 'pending-before') {
        // Nothing of the shard was read: its stranded entries go first.
        options.metrics.strandedReads.inc();
        if (member !== undefined) member.pendingFirst = true;
      } else if (result.status === 'history-lost') {
        // Nothing of the shard was read: new epochs first, then read again.
        await recoverLostHistory(options, result.shard, result.storedMark);
        if (member !== undefined) member.moreToRead = true;
      } else {
        options.history.recordBatch(result.shard, result.mark, result.writtenUsers);
        const read = result.read;
        if (member !== undefined && read !== undefined) {
          member.readAfter = read.lastId;
          malformed += read.malformed;
          if (read.count >= count) member.moreToRead = true;
        }
      }
    }
    options.metrics.eventsProcessed.inc(outcome.processed);
    if (outcome.duplicates > 0) options.metrics.dedupeHits.inc(outcome.duplicates);
    if (malformed > 0)
      options.logger.warn({ count: malformed }, 'skipped malformed ingest entries');
  }

  /** One persist script call, timed; a fresh epoch in case it creates a history. */
  private async persist(
    work: ReadonlyArray<ShardBatch | ShardRead>,
    forwarding: ScriptForwarding | undefined,
  ): Promise<ShardsOutcome> {
    const { options } = this;
    const timer = options.metrics.persistSeconds.startTimer();
    try {
      return await persistShards(
        options.client,
        options.keys,
        work,
        options.persist,
        this.epochs.next(),
        forwarding,
        CONSUMER_GROUP,
      );
    } finally {
      timer();
    }
  }

  /** COUNT per stream: about batchSize in all keeps one script call short. */
  private countPerShard(shards: number): number {
    const { batchSize } = this.options;
    return Math.min(batchSize, Math.max(MIN_COUNT_PER_SHARD, Math.ceil(batchSize / shards)));
  }

  /** Waits for a shard to be added (or a short while, for leases to renew). */
  private async idle(signal: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, IDLE_POLL_MS);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
      if (signal.aborted) done();
    });
    this.wake = undefined;
  }

  /**
   * Reads entries never delivered to the group, from every readable shard
   * in one call; blocks (briefly) only when asked. Undefined when nothing came.
   */
  private async readNew(
    reader: RedisClient,
    readable: readonly Member[],
    block: boolean,
  ): Promise<Map<Member, RawStreamEntries> | undefined> {
    const { consumerName } = this.options;
    const count = this.countPerShard(readable.length);
    const args: Array<string | number> = ['GROUP', CONSUMER_GROUP, consumerName, 'COUNT', count];
    if (block) args.push('BLOCK', this.blockMs);
    args.push('STREAMS');
    for (const member of readable) args.push(member.stream);
    for (let i = 0; i < readable.length; i++) args.push('>');
    // The typed command (not call()): a cluster client routes it by its stream key.
    const xreadgroup = reader.xreadgroup.bind(reader) as (
      ...args: Array<string | number>
    ) => Promise<Array<[string, RawStreamEntries]> | null>;
    const reply = await xreadgroup(...args);
    if (reply === null) return undefined;
    const byStream = new Map<Member, RawStreamEntries>();
    for (const [stream, entries] of reply) {
      if (entries.length === 0) continue;
      const member = readable.find((m) => m.stream === stream);
      // A shard removed while the read was pending: its entries stay pending for the next owner.
      if (member !== undefined && this.members.get(member.lease.shard) === member) {
        byStream.set(member, entries);
      }
    }
    return byStream.size > 0 ? byStream : undefined;
  }

  /** Ends a pending blocking read at once (the set of shards changed). */
  private interrupt(): void {
    this.wake?.();
    const id = this.blockingId;
    if (id === undefined || this.blocking === undefined) return;
    this.options.client.call('CLIENT', 'UNBLOCK', id).catch(() => undefined);
  }

  /** Routed by the stream key (XGROUP CREATE through a cluster client is not: MOVED). */
  private async ensureGroup(stream: string): Promise<void> {
    await ensureConsumerGroup(this.options.client, stream, CONSUMER_GROUP);
  }

  /**
   * Claims what other consumers left pending in these shards, every shard at
   * once (one round trip, not one per shard: at 16 shards a second that was
   * most of an idle buffer's wake-ups), then processes this consumer's
   * pending entries, shard by shard in order. A periodic reclaim that found
   * nothing skips the drain: this consumer's own entries are only left
   * pending by a failure or the order guard, which set pendingFirst again.
   */
  private async claimAndDrain(claiming: readonly Member[], signal: AbortSignal): Promise<void> {
    await Promise.all(
      claiming.map(async (member) => {
        if (member.pendingFirst) await this.ensureGroup(member.stream);
      }),
    );
    const claimed = await Promise.all(claiming.map((member) => this.claimPending(member.stream)));
    for (let i = 0; i < claiming.length; i++) {
      const member = claiming[i] as Member;
      const drain = member.pendingFirst || (claimed[i] as number) > 0;
      member.pendingFirst = false;
      member.lastClaim = Date.now();
      if (drain) await this.drainOwnPending(member, signal);
    }
  }

  /** Moves every pending entry of other consumers (former owners) to this one; returns how many. */
  private async claimPending(stream: string): Promise<number> {
    let claimed = 0;
    let cursor = '0-0';
    do {
      const reply = (await this.options.client.xautoclaim(
        stream,
        CONSUMER_GROUP,
        this.options.consumerName,
        0,
        cursor,
        'COUNT',
        1000,
        'JUSTID',
      )) as [string, string[], string[]?];
      cursor = reply[0];
      claimed += reply[1].length;
    } while (cursor !== '0-0');
    return claimed;
  }

  /**
   * Re-processes this consumer's pending entries of one shard, oldest first.
   * Stops when the order guard refused a batch (pendingFirst set again: an
   * older entry was stranded meanwhile); the next step claims and drains anew.
   */
  private async drainOwnPending(member: Member, signal: AbortSignal): Promise<void> {
    let after = '0';
    while (
      !signal.aborted &&
      !member.pendingFirst &&
      this.members.get(member.lease.shard) === member
    ) {
      const reply = (await this.options.client.xreadgroup(
        'GROUP',
        CONSUMER_GROUP,
        this.options.consumerName,
        'COUNT',
        this.options.batchSize,
        'STREAMS',
        member.stream,
        after,
      )) as Array<[string, RawStreamEntries]> | null;
      const raw = reply?.[0]?.[1] ?? [];
      if (raw.length === 0) return;
      await this.processBatch(new Map([[member, raw]]));
      after = raw[raw.length - 1]?.[0] ?? after;
    }
  }

  /** Hot path: one persist call for the whole batch, then forward and XACK unless the script did. */
  private async processBatch(raw: Map<Member, RawStreamEntries>): Promise<void> {
    const { options } = this;
    const batches: ShardBatch[] = [];
    const read = new Map<number, { member: Member; raw: RawStreamEntries }>();
    let malformedCount = 0;
    for (const [member, entries] of raw) {
      const leaseValue = member.lease.value;
      if (leaseValue === undefined) continue;
      const { entries: parsed, malformed } = parseShardEntries(entries);
      malformedCount += malformed.length;
      const shard = member.lease.shard;
      const expectedMark = options.history.expectedMark(shard);
      // Entries come in stream order: the first is the oldest (the order guard).
      const oldestReadId = entries[0]?.[0];
      batches.push({
        shard,
        leaseValue,
        expectedMark,
        entries: parsed,
        skipped: malformed,
        oldestReadId,
      });
      read.set(shard, { member, raw: entries });
    }
    if (batches.length === 0) return;

    const forwarding = options.forwardInScript
      ? { inboxMaxLen: options.inboxMaxLen, group: CONSUMER_GROUP }
      : undefined;
    const generation = connectionGeneration(options.client);
    const outcome = await this.persist(batches, forwarding);

    const done: Array<{
      shard: number;
      mark: number;
      forwards: Forward[];
      writtenUsers: string[];
    }> = [];
    const lost = new Map<Member, RawStreamEntries>();
    for (const result of outcome.shards) {
      if (result.status === 'fenced') {
        // Another replica owns the shard now; it will redeliver what we leave pending.
        options.onFenced(result.shard);
      } else if (result.status === 'pending-before') {
        // Left pending: the next step claims the stranded older entries and drains in order.
        options.metrics.strandedReads.inc();
        const entry = read.get(result.shard);
        if (entry !== undefined) entry.member.pendingFirst = true;
      } else if (result.status === 'history-lost') {
        // Nothing of the shard's batch was written: new epochs first, then the batch again.
        await recoverLostHistory(options, result.shard, result.storedMark);
        const entry = read.get(result.shard);
        if (entry !== undefined) lost.set(entry.member, entry.raw);
      } else {
        done.push(result);
      }
    }

    if (done.length > 0) {
      // No client may see an event that a failover can take back.
      if (!forwarding) await this.replicated(done, generation);
      // Remembered once replicated: a batch nobody saw may be lost without a new epoch.
      for (const { shard, mark, writtenUsers } of done)
        options.history.recordBatch(shard, mark, writtenUsers);
      if (!forwarding) await this.forwardAndAck(done, read);
    }
    options.metrics.eventsProcessed.inc(outcome.processed);
    if (outcome.duplicates > 0) options.metrics.dedupeHits.inc(outcome.duplicates);
    if (malformedCount > 0) {
      options.logger.warn({ count: malformedCount }, 'skipped malformed ingest entries');
    }
    if (lost.size > 0) await this.processBatch(lost);
  }

  /** Forwarding outside the script: XADD to the inboxes in one round trip (per node), then XACK. */
  private async forwardAndAck(
    done: ReadonlyArray<{ shard: number; forwards: Forward[] }>,
    read: ReadonlyMap<number, { member: Member; raw: RawStreamEntries }>,
  ): Promise<void> {
    const { options } = this;
    const forwardTimer = options.metrics.forwardSeconds.startTimer();
    await forwardToInboxes(
      options.client,
      options.keys,
      done.flatMap((result) => result.forwards),
      options.inboxMaxLen,
    );
    forwardTimer();
    const acks: Array<Promise<unknown>> = [];
    for (const { shard } of done) {
      const entry = read.get(shard);
      if (entry === undefined) continue;
      const ids = entry.raw.map(([id]) => id);
      acks.push(options.client.xack(entry.member.stream, CONSUMER_GROUP, ...ids));
    }
    await Promise.all(acks);
  }

  /** WAIT until MIN_REPLICAS have the batch; a timeout throws, so the batch is processed again. */
  private async replicated(
    done: ReadonlyArray<{ shard: number }>,
    generation: number,
  ): Promise<void> {
    const { client, keys, replication, metrics } = this.options;
    if (replication.minReplicas <= 0) return;
    const timer = metrics.replicationSeconds.startTimer();
    try {
      await replicate(client, replication, {
        keys: done.map(({ shard }) => keys.lease(shard)),
        generation,
      });
    } catch (error) {
      if (error instanceof ReplicationTimeoutError) metrics.replicationTimeouts.inc();
      throw error;
    } finally {
      timer();
    }
  }
}
