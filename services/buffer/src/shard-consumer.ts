import { randomBytes } from 'node:crypto';
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
import { forwardToInboxes } from './inbox-forwarder.js';
import type { ShardHistoryMemory } from './history-memory.js';
import { recoverLostHistory } from './lost-history.js';
import type { BufferMetrics } from './metrics.js';
import { type PersistSettings, persistBatch } from './persist-batch.js';
import { type RawStreamEntries, parseShardEntries } from './shard-entries.js';
import { sleepUnlessAborted } from './sleep-unless-aborted.js';
import type { ShardLease } from './shard-lease.js';

export const CONSUMER_GROUP = 'buffer';

export interface ShardConsumerOptions {
  client: RedisClient;
  target: RedisTarget;
  keys: KeyLayout;
  lease: ShardLease;
  consumerName: string;
  batchSize: number;
  inboxMaxLen: number;
  persist: PersistSettings;
  leaseTtlMs: number;
  /** MIN_REPLICAS / REPLICA_WAIT_MS: a batch is forwarded only once replicated. */
  replication: ReplicationPolicy;
  /** What this process wrote to each shard (lost-write detection). */
  history: ShardHistoryMemory;
  metrics: BufferMetrics;
  logger: Logger;
  /** Called when the persist script says the lease is gone: stop this shard. */
  onFenced: (shard: number) => void;
}

/** Re-claim entries other consumers hold (a fenced replica's reads) this often. */
const RECLAIM_INTERVAL_MS = 1000;

/**
 * Processes one shard while this replica holds its lease: first every entry
 * a previous owner left pending (claimed to this consumer), then new ones.
 * For each batch: persist (seq, log, dedupe, routes) -> replicate (WAIT for
 * MIN_REPLICAS) -> forward to inboxes -> XACK. A crash anywhere before XACK
 * means redelivery to the next owner.
 */
export class ShardConsumer {
  private readonly stream: string;
  /**
   * A blocking read is only issued while the lease has more than this left,
   * and never blocks longer: whatever Redis delivers to this consumer is
   * delivered while the lease is still ours, so a takeover's XAUTOCLAIM
   * always finds it.
   */
  private readonly blockMs: number;

  constructor(private readonly options: ShardConsumerOptions) {
    this.stream = options.keys.ingest(options.lease.shard);
    this.blockMs = Math.max(50, Math.min(2000, Math.floor(options.leaseTtlMs / 4)));
  }

  async run(signal: AbortSignal): Promise<void> {
    const { options } = this;
    const blocking = createBlockingClient(
      options.target,
      `${options.consumerName}:shard-${options.lease.shard}`,
    );
    blocking.on('error', () => undefined);
    const unblock = (): void => blocking.disconnect();
    signal.addEventListener('abort', unblock);
    let failures = 0;
    // After any failure the last batch may be persisted but not forwarded or
    // acknowledged: process this consumer's pending entries again before new ones.
    let pendingFirst = true;
    let lastClaim = 0;
    // While reads come back full there is a backlog: read on without blocking.
    let backlog = true;
    try {
      while (!signal.aborted) {
        try {
          if (options.lease.remainingMs() <= this.blockMs) {
            // Paused past the lease, or renewals failing: read nothing until renewed or stopped.
            await sleepUnlessAborted(25, signal);
            continue;
          }
          if (pendingFirst || Date.now() - lastClaim > RECLAIM_INTERVAL_MS) {
            if (pendingFirst) await this.ensureGroup();
            await this.claimPending();
            await this.drainOwnPending(signal);
            pendingFirst = false;
            lastClaim = Date.now();
            continue;
          }
          // Right after a takeover the shard's own connection may still be opening:
          // read on the shared client meanwhile instead of waiting for it.
          const ownReady = blocking.status === 'ready';
          const block = ownReady && !backlog;
          const raw = await this.readNew(ownReady ? blocking : options.client, block);
          failures = 0;
          backlog = raw.length >= options.batchSize;
          if (raw.length === 0 && !block) await sleepUnlessAborted(10, signal);
          if (raw.length > 0 && !signal.aborted) await this.processBatch(raw);
        } catch (error) {
          if (signal.aborted) break;
          failures++;
          pendingFirst = true;
          backlog = true;
          if (failures === 1 || failures % 50 === 0) {
            options.logger.warn({ err: error, shard: options.lease.shard }, 'shard read failed');
          }
          await sleepUnlessAborted(Math.min(100 * failures, 1000), signal);
        }
      }
    } finally {
      signal.removeEventListener('abort', unblock);
      blocking.disconnect();
    }
  }

  /**
   * Reads entries never delivered to the group; blocks (briefly) only when asked.
   * The typed command, not `call('XREADGROUP', ...)`: a cluster client routes
   * (and auto-pipelines) `call` by the slot of its first argument, the word
   * XREADGROUP, not by the stream.
   */
  private async readNew(reader: RedisClient, block: boolean): Promise<RawStreamEntries> {
    const { consumerName, batchSize } = this.options;
    const reply = (
      block
        ? await reader.xreadgroup(
            'GROUP',
            CONSUMER_GROUP,
            consumerName,
            'COUNT',
            batchSize,
            'BLOCK',
            this.blockMs,
            'STREAMS',
            this.stream,
            '>',
          )
        : await reader.xreadgroup(
            'GROUP',
            CONSUMER_GROUP,
            consumerName,
            'COUNT',
            batchSize,
            'STREAMS',
            this.stream,
            '>',
          )
    ) as Array<[string, RawStreamEntries]> | null;
    return reply?.[0]?.[1] ?? [];
  }

  private async ensureGroup(): Promise<void> {
    await ensureConsumerGroup(this.options.client, this.stream, CONSUMER_GROUP);
  }

  /** Moves every pending entry of other consumers (former owners) to this one. */
  private async claimPending(): Promise<void> {
    let cursor = '0-0';
    do {
      const reply = (await this.options.client.xautoclaim(
        this.stream,
        CONSUMER_GROUP,
        this.options.consumerName,
        0,
        cursor,
        'COUNT',
        1000,
        'JUSTID',
      )) as [string, string[], string[]?];
      cursor = reply[0];
    } while (cursor !== '0-0');
  }

  /** Re-processes this consumer's pending entries, oldest first. */
  private async drainOwnPending(signal: AbortSignal): Promise<void> {
    let after = '0';
    while (!signal.aborted) {
      const reply = (await this.options.client.xreadgroup(
        'GROUP',
        CONSUMER_GROUP,
        this.options.consumerName,
        'COUNT',
        this.options.batchSize,
        'STREAMS',
        this.stream,
        after,
      )) as Array<[string, RawStreamEntries]> | null;
      const raw = reply?.[0]?.[1] ?? [];
      if (raw.length === 0) return;
      await this.processBatch(raw);
      after = raw[raw.length - 1]?.[0] ?? after;
    }
  }

  private async processBatch(raw: RawStreamEntries): Promise<void> {
    const { options } = this;
    const lease = options.lease.value;
    if (lease === undefined) return;
    const { entries, malformed } = parseShardEntries(raw);
    if (entries.length > 0) {
      const persistTimer = options.metrics.persistSeconds.startTimer();
      const generation = connectionGeneration(options.client);
      const outcome = await persistBatch(
        options.client,
        options.keys,
        options.lease.shard,
        lease,
        entries,
        options.persist,
        randomBytes(4).toString('hex'),
        options.history.expectedMark(options.lease.shard),
      );
      persistTimer();
      if (outcome.fenced) {
        // Another replica owns the shard now; it will redeliver what we leave pending.
        options.onFenced(options.lease.shard);
        return;
      }
      if (outcome.historyLost) {
        // Nothing of this batch was written: new epochs first, then the batch again.
        await recoverLostHistory(options, options.lease.shard, outcome.storedMark);
        return this.processBatch(raw);
      }
      // No client may see an event that a failover can take back.
      await this.replicated(generation);
      // Remembered once replicated: a batch nobody saw may be lost without a new epoch.
      options.history.recordBatch(options.lease.shard, outcome.mark, outcome.forwards);
      const forwardTimer = options.metrics.forwardSeconds.startTimer();
      await forwardToInboxes(options.client, options.keys, outcome.forwards, options.inboxMaxLen);
      forwardTimer();
      options.metrics.eventsProcessed.inc(outcome.forwards.length);
      if (outcome.duplicates > 0) options.metrics.dedupeHits.inc(outcome.duplicates);
    }
    const ids = raw.map(([id]) => id);
    await options.client.xack(this.stream, CONSUMER_GROUP, ...ids);
    if (malformed.length > 0) {
      options.logger.warn(
        { shard: options.lease.shard, count: malformed.length },
        'skipped malformed ingest entries',
      );
    }
  }

  /** WAIT until MIN_REPLICAS have the batch; a timeout throws, so the batch is processed again. */
  private async replicated(generation: number): Promise<void> {
    const { client, replication, metrics } = this.options;
    if (replication.minReplicas <= 0) return;
    const timer = metrics.replicationSeconds.startTimer();
    try {
      await replicate(client, replication, {
        keys: [this.options.keys.lease(this.options.lease.shard)],
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
