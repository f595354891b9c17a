import { randomBytes } from 'node:crypto';
import { type KeyLayout, type RedisClient, type ScriptReply, Scripts } from '@agentwire/redis';
import type { Logger } from '@agentwire/telemetry';
import type { ShardHistoryMemory } from './history-memory.js';
import { forwardToInboxes } from './inbox-forwarder.js';
import type { BufferMetrics } from './metrics.js';
import type { Forward } from './persist-batch.js';

export interface LostHistoryDeps {
  client: RedisClient;
  keys: KeyLayout;
  history: ShardHistoryMemory;
  inboxMaxLen: number;
  metrics: BufferMetrics;
  logger: Logger;
}

/**
 * A shard's stored history mark is below the one this process saw: the
 * writes of the batches in between are gone. Every user those batches
 * appended for gets a new epoch (rotate-epochs-1.lua), and each user's open
 * connections are sent the user's latest event under the new epoch, which
 * makes their edge ask the client to resume (resumed:false, resync). Runs
 * once per loss, off the hot path.
 */
export async function recoverLostHistory(
  deps: LostHistoryDeps,
  shard: number,
  storedMark: number,
): Promise<void> {
  const { client, keys, history } = deps;
  const expectedMark = history.expectedMark(shard);
  const lost = history.lostUsers(shard, storedMark);
  const epoch = randomBytes(6).toString('base64url');
  if (lost === 'all' || lost.length > 0) {
    const reply = (await Scripts.rotateEpochs.run(
      client,
      [keys.shardHistory(shard)],
      [keys.shardBase(shard), epoch, ...(lost === 'all' ? ['all'] : ['listed', ...lost])],
    )) as ScriptReply[];
    await forwardToInboxes(client, keys, parseNotices(reply, epoch), deps.inboxMaxLen);
  }
  history.resetTo(shard, storedMark);
  deps.metrics.historyLosses.inc();
  deps.logger.warn(
    {
      shard,
      storedMark,
      expectedMark,
      users: lost === 'all' ? 'all' : lost.length,
    },
    'shard history lost writes (Redis failover or restore): users got a new epoch',
  );
}

function parseNotices(reply: readonly ScriptReply[], epoch: string): Forward[] {
  const notices: Forward[] = [];
  for (let at = 0; at < reply.length;) {
    const nodeCount = Number(reply[at + 3]);
    notices.push({
      userId: String(reply[at]),
      seq: Number(reply[at + 1]),
      frame: String(reply[at + 2]),
      epoch,
      nodes: reply.slice(at + 4, at + 4 + nodeCount).map(String),
      chunk: 0,
      runId: '',
      stream: '',
    });
    at += 4 + nodeCount;
  }
  return notices;
}
