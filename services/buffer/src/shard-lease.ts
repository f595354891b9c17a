import { type KeyLayout, type RedisClient, Scripts } from '@agentwire/redis';

/**
 * The lease on one ingest shard. Its value "owner|token" is the fencing
 * token: the persist script refuses to write unless the lease still holds
 * exactly this value, so a paused former owner cannot write after a takeover.
 */
export class ShardLease {
  private heldValue: string | undefined;

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

  /** Takes the lease if free. Returns true when this replica holds it afterwards. */
  async acquire(): Promise<boolean> {
    const [token] = (await Scripts.acquireLease.run(
      this.client,
      [this.keys.lease(this.shard), this.keys.fence(this.shard)],
      [this.owner, this.ttlMs],
    )) as [number, number];
    this.heldValue = token > 0 ? `${this.owner}|${token}` : undefined;
    return this.heldValue !== undefined;
  }

  /** Extends the lease. Returns false when it was lost (expired and taken, or deleted). */
  async renew(): Promise<boolean> {
    if (this.heldValue === undefined) return false;
    const renewed = await Scripts.renewLease.run(
      this.client,
      [this.keys.lease(this.shard)],
      [this.heldValue, this.ttlMs],
    );
    if (renewed !== 1) this.heldValue = undefined;
    return renewed === 1;
  }

  async release(): Promise<void> {
    if (this.heldValue === undefined) return;
    const value = this.heldValue;
    this.heldValue = undefined;
    await Scripts.releaseLease.run(this.client, [this.keys.lease(this.shard)], [value]);
  }
}
