/** Users remembered per shard; beyond it, a loss rotates every user of the shard. */
const USERS_PER_SHARD = 10_000;

interface ShardMemory {
  /** The shard's history mark after the last batch this process wrote. */
  mark: number;
  /** User -> mark of the last batch that appended to the user's log (oldest first). */
  users: Map<string, number>;
  /** Highest mark among users dropped to stay bounded. */
  evictedMark: number;
}

/**
 * What this buffer process wrote to each shard's history, kept in memory
 * because memory is what a Redis failover cannot take back. The shard's
 * history mark (persist-batch-1.lua) only goes down when Redis lost writes;
 * the users whose last append came after the surviving mark are the ones
 * whose seqs may be handed out twice (rotate-epochs-1.lua). Kept after a
 * lease moves on: the process that wrote the lost batches is the one that
 * knows who they touched (history-watch.ts checks shards it no longer owns).
 */
export class ShardHistoryMemory {
  private readonly shards = new Map<number, ShardMemory>();

  /** The mark to expect in the shard, or undefined when this process never wrote it. */
  expectedMark(shard: number): number | undefined {
    return this.shards.get(shard)?.mark;
  }

  /**
   * Hot path (once per batch): the batch left the shard at `mark`; it
   * appended critical events to the logs of `users`.
   */
  recordBatch(shard: number, mark: number, users: readonly string[]): void {
    let memory = this.shards.get(shard);
    if (memory === undefined) {
      memory = { mark, users: new Map(), evictedMark: 0 };
      this.shards.set(shard, memory);
    }
    memory.mark = mark;
    for (const user of users) {
      memory.users.delete(user);
      memory.users.set(user, mark);
    }
    while (memory.users.size > USERS_PER_SHARD) {
      const [oldest, oldestMark] = memory.users.entries().next().value as [string, number];
      memory.users.delete(oldest);
      memory.evictedMark = Math.max(memory.evictedMark, oldestMark);
    }
  }

  /**
   * Users whose appends came after `storedMark` (lost), or 'all' when some
   * of them were forgotten to stay bounded.
   */
  lostUsers(shard: number, storedMark: number): string[] | 'all' {
    const memory = this.shards.get(shard);
    if (memory === undefined) return [];
    if (memory.evictedMark > storedMark) return 'all';
    const lost: string[] = [];
    for (const [user, mark] of memory.users) if (mark > storedMark) lost.push(user);
    return lost;
  }

  /** After the lost users got a new epoch: continue from what survived. */
  resetTo(shard: number, storedMark: number): void {
    const memory = this.shards.get(shard);
    if (memory === undefined) return;
    memory.mark = storedMark;
    for (const [user, mark] of memory.users) if (mark > storedMark) memory.users.delete(user);
    memory.evictedMark = Math.min(memory.evictedMark, storedMark);
  }

  /** Every shard this process wrote, with the mark it expects there. */
  remembered(): Array<[shard: number, mark: number]> {
    return [...this.shards].map(([shard, memory]) => [shard, memory.mark]);
  }
}
