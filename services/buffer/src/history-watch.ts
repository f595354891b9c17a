import { type LostHistoryDeps, recoverLostHistory } from './lost-history.js';
import { sleepUnlessAborted } from './sleep-unless-aborted.js';

/**
 * Compares, every `intervalMs`, the history mark of every shard this process
 * ever wrote with the mark it remembers, whether it still owns the shard or
 * not: after a failover the shard's lease may have moved to a replica that
 * never saw the lost batches, and only this process knows whom they touched.
 * One pipelined GET per remembered shard per interval.
 */
export async function watchShardHistories(
  deps: LostHistoryDeps,
  intervalMs: number,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    await sleepUnlessAborted(intervalMs, signal);
    if (signal.aborted) break;
    try {
      // Remembered marks are read before the stored ones: a batch written in
      // between only raises the stored mark, never makes it look lost.
      const remembered = deps.history.remembered();
      const stored = await Promise.all(
        remembered.map(([shard]) => deps.client.get(deps.keys.shardHistory(shard))),
      );
      for (let i = 0; i < remembered.length; i++) {
        const [shard, mark] = remembered[i] as [number, number];
        const storedMark = Number(stored[i] ?? 0);
        if (storedMark < mark) await recoverLostHistory(deps, shard, storedMark);
      }
    } catch {
      // Redis unreachable (failover in progress): the next round checks again.
    }
  }
}
