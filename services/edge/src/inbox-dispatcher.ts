import { InboxField, inboxEventEnd, parseInboxFields, type InboxAppend } from '@agentwire/redis';
import type { ConnectionRegistry } from './connection-registry.js';
import type { EdgeMetrics } from './metrics.js';
import type { Connection } from './ws/connection.js';

/** One XREAD entry: [stream id, flat field list]. */
export type InboxStreamEntry = [id: string, fields: string[]];

/** Delivery latency is measured on 1 entry in this many. */
const LATENCY_SAMPLE_EVERY = 8;
const TS_KEY = '"ts":';

/**
 * Hot path: hands a batch of inbox entries to the local connections of each
 * event's user. Frames are sent verbatim (never parsed or re-serialised);
 * each connection stages its frames and they leave in one corked write per
 * connection per batch. No logging here: metrics only.
 */
export function createInboxDispatcher(
  registry: ConnectionRegistry<Connection>,
  metrics: Pick<EdgeMetrics, 'deliveryLatency' | 'inboxLag'>,
): (entries: readonly InboxStreamEntry[]) => void {
  const dirty: Connection[] = [];
  let sampleCounter = 0;

  return (entries) => {
    if (entries.length === 0) return;
    const now = Date.now();
    for (let i = 0; i < entries.length; i++) {
      const fields = (entries[i] as InboxStreamEntry)[1];
      // An entry holds one or more events, one after the other.
      for (let at = 0; at < fields.length;) {
        const from = at;
        at = inboxEventEnd(fields, from);
        let userId: string;
        let seq: number;
        let frame: string;
        let epoch: string;
        let append: InboxAppend | undefined;
        // The buffer writes u, s, f, e in this order (then r, n, k for an
        // append); read by position when it did.
        const size = at - from;
        if (
          (size === 8 || isAppendLayout(fields, from, size)) &&
          fields[from] === InboxField.userId &&
          fields[from + 2] === InboxField.seq &&
          fields[from + 4] === InboxField.frame &&
          fields[from + 6] === InboxField.epoch
        ) {
          userId = fields[from + 1] as string;
          seq = +(fields[from + 3] as string);
          frame = fields[from + 5] as string;
          epoch = fields[from + 7] as string;
          append =
            size === 14
              ? {
                  runId: fields[from + 9] as string,
                  stream: fields[from + 11] as string,
                  chunk: +(fields[from + 13] as string),
                }
              : undefined;
        } else {
          const entry = parseInboxFields(fields, from, at);
          if (entry === undefined) continue;
          ({ userId, seq, frame, epoch, append } = entry);
        }
        const conns = registry.get(userId);
        if (conns === undefined) continue;
        for (const conn of conns) conn.offer(seq, frame, epoch, now, dirty, append);
        if (++sampleCounter % LATENCY_SAMPLE_EVERY === 0) {
          const ts = ingestTs(frame);
          if (ts > 0 && now >= ts) metrics.deliveryLatency.observe((now - ts) / 1000);
        }
      }
    }
    for (let i = 0; i < dirty.length; i++) (dirty[i] as Connection).flushOutbox(now);
    dirty.length = 0;
    const lastId = (entries[entries.length - 1] as InboxStreamEntry)[0];
    const writtenAt = Number.parseInt(lastId, 10);
    if (writtenAt > 0) metrics.inboxLag.set(Math.max(0, now - writtenAt) / 1000);
  };
}

/** u, s, f, e, r, n, k from `at`: an append as the buffer writes it. */
function isAppendLayout(fields: readonly string[], at: number, size: number): boolean {
  return (
    size === 14 &&
    fields[at + 8] === InboxField.runId &&
    fields[at + 10] === InboxField.stream &&
    fields[at + 12] === InboxField.chunk
  );
}

/**
 * The ingest time inside an event frame, without parsing the frame. The
 * frame is serialised by the edge itself (validateIngestEvent): `ts` is a
 * top-level key written before `data`, and a JSON string cannot contain the
 * unescaped sequence `"ts":`, so the first match is the real key.
 */
export function ingestTs(frame: string): number {
  const at = frame.indexOf(TS_KEY);
  if (at < 0) return 0;
  const ts = Number.parseInt(frame.slice(at + TS_KEY.length, at + TS_KEY.length + 20), 10);
  return Number.isFinite(ts) ? ts : 0;
}
