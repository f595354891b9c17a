import {
  INBOX_ENTRY_MAX_FIELDS,
  InboxField,
  type KeyLayout,
  type RedisClient,
} from '@agentwire/redis';
import type { Forward } from './persist-batch.js';

/** One node's inbox entry being built: its events' fields, in order. */
interface InboxEntryDraft {
  key: string;
  fields: Array<string | number>;
  events: number;
}

/**
 * Appends each forward to the inbox of every node holding its user, as the
 * persist script does in forwarding mode: one entry per node and batch
 * holding that node's events in order (several past INBOX_ENTRY_MAX_FIELDS),
 * MAXLEN scaled so that an inbox keeps about `inboxMaxLen` events. All XADDs
 * of a batch are issued in one tick, so auto-pipelining sends them in one
 * round trip (one per cluster node). Per-event work is proportional to the
 * nodes that hold the user, never to the number of edges.
 */
export async function forwardToInboxes(
  client: RedisClient,
  keys: KeyLayout,
  forwards: readonly Forward[],
  inboxMaxLen: number,
): Promise<void> {
  const writes: Array<Promise<unknown>> = [];
  const write = (draft: InboxEntryDraft): void => {
    const maxLen = Math.max(1, Math.ceil(inboxMaxLen / draft.events));
    writes.push(client.xadd(draft.key, 'MAXLEN', '~', maxLen, '*', ...draft.fields));
    draft.fields = [];
    draft.events = 0;
  };
  const drafts = new Map<string, InboxEntryDraft>();
  for (const forward of forwards) {
    for (const node of forward.nodes) {
      let draft = drafts.get(node);
      if (draft === undefined) {
        draft = { key: keys.inbox(node), fields: [], events: 0 };
        drafts.set(node, draft);
      }
      draft.fields.push(
        InboxField.userId,
        forward.userId,
        InboxField.seq,
        forward.seq,
        InboxField.frame,
        forward.frame,
        InboxField.epoch,
        forward.epoch,
      );
      if (forward.chunk > 0) {
        draft.fields.push(InboxField.runId, forward.runId, InboxField.stream, forward.stream);
        draft.fields.push(InboxField.chunk, forward.chunk);
      }
      draft.events++;
      if (draft.fields.length >= INBOX_ENTRY_MAX_FIELDS) write(draft);
    }
  }
  for (const draft of drafts.values()) if (draft.events > 0) write(draft);
  await Promise.all(writes);
}
