import type { KeyLayout } from './key-layout.js';
import type { RedisClient } from './redis-client.js';

/** Field names of an ingest stream entry. Short: they are stored per event. */
export const IngestField = {
  eventId: 'i',
  userId: 'u',
  critical: 'c',
  body: 'b',
  /** Run fields, only on events with a runId (protocol.md section 9). */
  runId: 'r',
  /** Absent: any event of the run; see RunKindCode. */
  runKind: 'k',
  stream: 'n',
  /** The append's text, raw: the sequencer appends it to the stream's text. */
  text: 'a',
  /** run_stalled only: the run's last event time the stall was detected on. */
  stalledAfter: 'l',
} as const;

/** Values of the `k` field. */
export const RunKindCode = {
  end: 'e',
  append: 'a',
  stalled: 's',
} as const;

/** How an event acts on its run; the shape of AcceptedEvent.run in @agentwire/protocol. */
export type IngestRunPart =
  | { runId: string; kind: 'event' | 'end' }
  | { runId: string; kind: 'append'; stream: string; text: string };

/** The part of a validated event that the ingest stream stores. */
export interface IngestEntry {
  id: string;
  userId: string;
  critical: boolean;
  /** Event frame serialised without its opening brace, `type` and `seq`. */
  body: string;
  run?: IngestRunPart | undefined;
}

/** The flat field list of one ingest entry (XADD arguments after the id). */
function ingestFields(event: IngestEntry): string[] {
  const fields = [
    IngestField.eventId,
    event.id,
    IngestField.userId,
    event.userId,
    IngestField.critical,
    event.critical ? '1' : '0',
    IngestField.body,
    event.body,
  ];
  const run = event.run;
  if (run !== undefined) {
    fields.push(IngestField.runId, run.runId);
    if (run.kind === 'end') fields.push(IngestField.runKind, RunKindCode.end);
    else if (run.kind === 'append') {
      fields.push(IngestField.runKind, RunKindCode.append);
      fields.push(IngestField.stream, run.stream, IngestField.text, run.text);
    }
  }
  return fields;
}

/**
 * Appends events to their users' shard streams, in order. Commands issued in
 * one tick share one round trip through auto-pipelining; events of one user
 * go to one shard over one connection, so their order is kept. Resolves once
 * Redis has them all (with appendfsync always, once they are on disk).
 */
export async function appendToIngest(
  client: RedisClient,
  keys: KeyLayout,
  events: readonly IngestEntry[],
): Promise<void> {
  const writes: Array<Promise<unknown>> = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as IngestEntry;
    writes[i] = client.xadd(keys.ingest(keys.shardOf(event.userId)), '*', ...ingestFields(event));
  }
  await Promise.all(writes);
}

/** The ingest streams `events` go to, once each (for replicate() on a cluster). */
export function ingestKeysOf(keys: KeyLayout, events: readonly IngestEntry[]): string[] {
  const streams = new Set<string>();
  for (const event of events) streams.add(keys.ingest(keys.shardOf(event.userId)));
  return [...streams];
}
