import { InboxField, type KeyLayout, type RedisClient } from '@agentwire/redis';
import type { Forward } from './persist-batch.js';

/**
 * Appends each forward to the inbox of every node holding its user. All
 * XADDs of a batch are issued in one tick, so auto-pipelining sends them in
 * one round trip (one per cluster node). Per-event work is proportional to
 * the nodes that hold the user, never to the number of edges.
 */
export async function forwardToInboxes(
  client: RedisClient,
  keys: KeyLayout,
  forwards: readonly Forward[],
  inboxMaxLen: number,
): Promise<void> {
  const writes: Array<Promise<unknown>> = [];
  for (const forward of forwards) {
    const fields: Array<string | number> = [
      InboxField.userId,
      forward.userId,
      InboxField.seq,
      forward.seq,
      InboxField.frame,
      forward.frame,
      InboxField.epoch,
      forward.epoch,
    ];
    if (forward.chunk > 0) {
      fields.push(InboxField.runId, forward.runId, InboxField.stream, forward.stream);
      fields.push(InboxField.chunk, forward.chunk);
    }
    for (const node of forward.nodes) {
      writes.push(client.xadd(keys.inbox(node), 'MAXLEN', '~', inboxMaxLen, '*', ...fields));
    }
  }
  await Promise.all(writes);
}
