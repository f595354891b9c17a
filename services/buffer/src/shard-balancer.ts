import type { KeyLayout, RedisClient, RedisTarget, ReplicationPolicy } from '@agentwire/redis';
import type { Logger } from '@agentwire/telemetry';
import type { ShardHistoryMemory } from './history-memory.js';
import type { BufferMetrics } from './metrics.js';
import type { PersistSettings } from './persist-batch.js';
import { ShardConsumer } from './shard-consumer.js';
import { ShardLease } from './shard-lease.js';
import { sleepUnlessAborted } from './sleep-unless-aborted.js';

export interface ShardBalancerOptions {
  client: RedisClient;
  target: RedisTarget;
  keys: KeyLayout;
  replicaId: string;
  leaseTtlMs: number;
  batchSize: number;
  inboxMaxLen: number;
  persist: PersistSettings;
  /** See ShardConsumerOptions.forwardInScript. */
  forwardInScript: boolean;
  replication: ReplicationPolicy;
  history: ShardHistoryMemory;
  metrics: BufferMetrics;
  logger: Logger;
}

interface OwnedShard {
  lease: ShardLease;
  runner: ConsumerRunner;
}

/** A running consumer and how to stop it. */
interface ConsumerRunner {
  consumer: ShardConsumer;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * Decides which shards this replica owns. Every tick (an eighth of the lease
 * TTL) it heartbeats, renews its leases, and moves toward an even share:
 * ceil(SHARDS / live replicas). Extras are released only after their
 * consumer stopped, so a shard is never processed by two replicas at once
 * (the fencing token covers the case where a replica is paused instead).
 */
export class ShardBalancer {
  private readonly owned = new Map<number, OwnedShard>();
  private readonly startOffset: number;
  /**
   * On a single Redis every owned shard shares one consumer (one read and
   * one script call per batch for all of them); on a cluster a shard's keys
   * live on one node, so each shard has its own.
   */
  private readonly shareConsumer: boolean;
  private shared: ConsumerRunner | undefined;

  constructor(private readonly options: ShardBalancerOptions) {
    // Replicas start probing free shards at different places to avoid piling up on shard 0.
    let hash = 0;
    for (const ch of options.replicaId) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
    this.startOffset = hash % options.keys.shards;
    // A single Redis, or Sentinel's primary: every key on one node.
    this.shareConsumer = !(options.target.clusterNodes && options.target.clusterNodes.length > 0);
  }

  get ownedShards(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  async run(signal: AbortSignal): Promise<void> {
    // An eighth of the TTL: renewals can fail several times and still land in time,
    // and a dead replica's shards are picked up within an eighth TTL of their expiry.
    const interval = Math.max(50, Math.floor(this.options.leaseTtlMs / 8));
    while (!signal.aborted) {
      try {
        await this.tick();
      } catch (error) {
        this.options.logger.warn({ err: error }, 'shard balancing failed; retrying');
      }
      await sleepUnlessAborted(interval, signal);
    }
    await this.releaseAll();
  }

  private async liveReplicas(): Promise<number> {
    const { client, keys, replicaId, leaseTtlMs } = this.options;
    const now = Date.now();
    await client.zadd(keys.buffers(), now, replicaId);
    await client.zremrangebyscore(keys.buffers(), '-inf', now - 10 * leaseTtlMs);
    // Heartbeats come every eighth of the TTL: four missed ones mean the replica is gone,
    // so survivors raise their share before its leases expire and take them at once.
    const live = await client.zcount(keys.buffers(), now - leaseTtlMs / 2, '+inf');
    return Math.max(1, live);
  }

  async tick(): Promise<void> {
    const { keys } = this.options;
    const target = Math.ceil(keys.shards / (await this.liveReplicas()));

    // All renewals at once: one round trip per tick instead of one per shard
    // (each wake-up of the process is what costs here, see docs/benchmarks.md).
    const owned = [...this.owned];
    const renewed = await Promise.all(owned.map(([, { lease }]) => lease.renew()));
    for (const [i, [shard]] of owned.entries()) {
      if (!renewed[i]) await this.stop(shard, 'lease lost');
    }
    const extras = this.ownedShards.slice(target);
    for (const shard of extras) await this.stop(shard, 'rebalanced');

    for (let i = 0; i < keys.shards && this.owned.size < target; i++) {
      const shard = (this.startOffset + i) % keys.shards;
      if (this.owned.has(shard)) continue;
      const lease = new ShardLease(
        this.options.client,
        keys,
        shard,
        this.options.replicaId,
        this.options.leaseTtlMs,
      );
      if (await lease.acquire()) this.start(lease);
    }
    this.options.metrics.ownedShards.set(this.owned.size);
  }

  private start(lease: ShardLease): void {
    let runner: ConsumerRunner;
    if (this.shareConsumer) {
      this.shared ??= this.startConsumer();
      runner = this.shared;
    } else {
      runner = this.startConsumer();
    }
    runner.consumer.add(lease);
    this.owned.set(lease.shard, { lease, runner });
    this.options.metrics.leaseTakeovers.inc();
    this.options.logger.info({ shard: lease.shard, lease: lease.value }, 'shard acquired');
  }

  private startConsumer(): ConsumerRunner {
    const abort = new AbortController();
    const consumer = new ShardConsumer({
      client: this.options.client,
      target: this.options.target,
      keys: this.options.keys,
      consumerName: this.options.replicaId,
      batchSize: this.options.batchSize,
      inboxMaxLen: this.options.inboxMaxLen,
      persist: this.options.persist,
      leaseTtlMs: this.options.leaseTtlMs,
      forwardInScript: this.options.forwardInScript,
      replication: this.options.replication,
      history: this.options.history,
      metrics: this.options.metrics,
      logger: this.options.logger,
      onFenced: (shard) => void this.stop(shard, 'fenced'),
    });
    const done = consumer.run(abort.signal).catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'shard consumer crashed');
    });
    return { consumer, abort, done };
  }

  private async stop(shard: number, reason: string): Promise<void> {
    const owned = this.owned.get(shard);
    if (!owned) return;
    this.owned.delete(shard);
    const { runner } = owned;
    await runner.consumer.remove(shard);
    if (runner !== this.shared) {
      runner.abort.abort();
      await runner.done;
    }
    await owned.lease.release().catch(() => undefined);
    this.options.logger.info({ shard, reason }, 'shard released');
  }

  private async releaseAll(): Promise<void> {
    await Promise.all(this.ownedShards.map((shard) => this.stop(shard, 'shutdown')));
    if (this.shared) {
      this.shared.abort.abort();
      await this.shared.done;
      this.shared = undefined;
    }
    await this.options.client
      .zrem(this.options.keys.buffers(), this.options.replicaId)
      .catch(() => undefined);
  }
}
