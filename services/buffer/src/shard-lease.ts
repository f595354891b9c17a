import { type KeyLayout, type RedisClient, Scripts } from '@agentwire/redis';

/**
 * The lease on one ingest shard. Its value "owner|token" is the fencing
 * token: the persist script refuses to write unless the lease still holds
 * exactly this value, so a paused former owner cannot write after a takeover.
 */
export class ShardLease {
  private heldValue: string | undefined;
  private validUntil = 0;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeyLayout,
    readonly shard: number,
    private readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  get value(): string | undefined {
    return this.heldValue;
  }

  /**
   * Time (local clock) this lease is known to remain ours: counted from when
   * the last acquire/renew was sent, so a process paused past it knows on
   * waking that another replica may own the shard, before any Redis answer.
   */
  remainingMs(now = Date.now()): number {
    return this.heldValue === undefined ? 0 : this.validUntil - now;
  }

  /** Takes the lease if free. Returns true when this replica holds it afterwards. */
  async acquire(): Promise<boolean> {
    const sentAt = Date.now();
    const [token] = (await Scripts.acquireLease.run(
      this.client,
      [this.keys.lease(this.shard), this.keys.fence(this.shard)],
      [this.owner, this.ttlMs],
    )) as [number, number];
    this.heldValue = token > 0 ? `${this.owner}|${token}` : undefined;
    this.validUntil = sentAt + this.ttlMs;
    return this.heldValue !== undefined;
  }

  /** Extends the lease. Returns false when it was lost (expired and taken, or deleted). */
  async renew(): Promise<boolean> {
    if (this.heldValue === undefined) return false;
    const sentAt = Date.now();
    const renewed = await Scripts.renewLease.run(
      this.client,
      [this.keys.lease(this.shard)],
      [this.heldValue, this.ttlMs],
    );
    if (renewed === 1) this.validUntil = sentAt + this.ttlMs;
    else this.heldValue = undefined;
    return renewed === 1;
  }

  async release(): Promise<void> {
    if (this.heldValue === undefined) return;
    const value = this.heldValue;
    this.heldValue = undefined;
    await Scripts.releaseLease.run(this.client, [this.keys.lease(this.shard)], [value]);
  }
}
