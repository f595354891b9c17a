import type { KeyLayout } from './key-layout.js';
import { Scripts } from './lua-script.js';
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

/**
 * The fields of an ingest entry in stored order. Every entry stores a prefix
 * of them: 4 without a run, 5 for any event of a run, 6 for a run end (kind
 * `e`), all 8 for an append. A call sends the names once (append-ingest-1.lua).
 */
const ENTRY_FIELDS = [
  IngestField.eventId,
  IngestField.userId,
  IngestField.critical,
  IngestField.body,
  IngestField.runId,
  IngestField.runKind,
  IngestField.stream,
  IngestField.text,
] as const;

/**
 * Pushes one entry onto a script call's arguments: its value count, then
 * its values in ENTRY_FIELDS order. Straight into the call's array, no array
 * per event (hot path: up to 1000 events per request).
 */
function pushIngestEntry(args: string[], event: IngestEntry): void {
  const countAt = args.length;
  args.push('', event.id, event.userId, event.critical ? '1' : '0', event.body);
  const run = event.run;
  if (run !== undefined) {
    args.push(run.runId);
    if (run.kind === 'end') args.push(RunKindCode.end);
    else if (run.kind === 'append') args.push(RunKindCode.append, run.stream, run.text);
  }
  args[countAt] = String(args.length - countAt - 1);
}

/**
 * Bounds of one append-ingest call. A call runs as one script, which no
 * other client interleaves with; the bounds keep a large request (up to
 * 1000 events of MAX_EVENT_BYTES each) from blocking Redis for long.
 */
export const IngestCallLimits = {
  entries: 1000,
  /** Characters of bodies and texts; a call holds at least one entry. */
  chars: 1 << 20,
} as const;

/**
 * Builds a sequence of append-ingest calls (each KEYS[1] then the ARGV of
 * append-ingest-1.lua), starting a new call at the bounds. A stream's part
 * cut by a bound goes on in the next call, so the calls must run one after
 * the other. Call finish() after the last entry.
 */
class IngestCallBuilder {
  readonly calls: string[][] = [];
  private call: string[] | undefined;
  private stream = '';
  /** Whether `call` holds a part of `stream`: where its entry count goes, and the count so far. */
  private partOpen = false;
  private countAt = 0;
  private partEntries = 0;
  private entries = 0;
  private chars = 0;

  /** The next entries go to `stream`. */
  startPart(stream: string): void {
    this.finish();
    this.stream = stream;
  }

  add(event: IngestEntry): void {
    const chars = event.body.length + (event.run?.kind === 'append' ? event.run.text.length : 0);
    if (
      this.call === undefined ||
      this.entries === IngestCallLimits.entries ||
      (this.entries > 0 && this.chars + chars > IngestCallLimits.chars)
    ) {
      this.finish();
      this.call = [this.stream, String(ENTRY_FIELDS.length), ...ENTRY_FIELDS];
      this.calls.push(this.call);
      this.entries = 0;
      this.chars = 0;
    }
    const call = this.call;
    if (!this.partOpen) {
      call.push(this.stream, '');
      this.countAt = call.length - 1;
      this.partEntries = 0;
      this.partOpen = true;
    }
    pushIngestEntry(call, event);
    this.partEntries++;
    this.entries++;
    this.chars += chars;
  }

  /** Closes the open part: its entry count is written once, not per entry. */
  finish(): void {
    if (!this.partOpen || this.call === undefined) return;
    this.call[this.countAt] = String(this.partEntries);
    this.partOpen = false;
  }
}

/**
 * Groups `events` by shard into append-ingest calls, keeping input order
 * within each shard (every event of a user goes to the user's shard, so a
 * user's events stay in order). Returns sequences of calls: the calls of a
 * sequence run one after the other, sequences side by side. `oneSequence`
 * (a single Redis): every shard in the same calls, usually one; else (a
 * cluster, where a call's keys share a slot) a sequence per shard.
 * Exported for tests.
 */
export function planIngestCalls(
  keys: KeyLayout,
  events: readonly IngestEntry[],
  oneSequence = false,
): string[][][] {
  const byShard = new Map<number, IngestEntry[]>();
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as IngestEntry;
    const shard = keys.shardOf(event.userId);
    const part = byShard.get(shard);
    if (part === undefined) byShard.set(shard, [event]);
    else part.push(event);
  }
  const plan: string[][][] = [];
  let builder: IngestCallBuilder | undefined;
  for (const [shard, part] of byShard) {
    if (builder === undefined || !oneSequence) {
      builder?.finish();
      builder = new IngestCallBuilder();
      plan.push(builder.calls);
    }
    builder.startPart(keys.ingest(shard));
    for (let i = 0; i < part.length; i++) builder.add(part[i] as IngestEntry);
  }
  builder?.finish();
  return plan;
}

/** Runs a sequence's calls one after the other: with NOSCRIPT retries, pipelined calls could swap. */
async function runSequence(client: RedisClient, calls: string[][]): Promise<void> {
  for (const call of calls) await Scripts.appendIngest.runPrepared(client, call);
}

/**
 * Appends events to their users' shard streams, in order: on a single Redis
 * one script call per request, on a cluster one per shard (more only for a
 * very large request, see IngestCallLimits), not one XADD per event. A
 * cluster's calls issued in one tick share a round trip per node through
 * auto-pipelining (KEYS[1] routes each call). Resolves once Redis has them
 * all (with appendfsync always, once they are on disk). Rejects if any call
 * failed, but only once every call has settled: the 503 that follows comes
 * after every write of the request landed or failed, so the producer's retry
 * never races the first attempt's other calls.
 */
export async function appendToIngest(
  client: RedisClient,
  keys: KeyLayout,
  events: readonly IngestEntry[],
): Promise<void> {
  const plan = planIngestCalls(keys, events, !('nodes' in client));
  const writes: Array<Promise<unknown>> = new Array(plan.length);
  for (let i = 0; i < plan.length; i++) {
    const calls = plan[i] as string[][];
    writes[i] =
      calls.length === 1
        ? Scripts.appendIngest.runPrepared(client, calls[0] as string[])
        : runSequence(client, calls);
  }
  const settled = await Promise.allSettled(writes);
  for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
}

/** The ingest streams `events` go to, once each (for replicate() on a cluster). */
export function ingestKeysOf(keys: KeyLayout, events: readonly IngestEntry[]): string[] {
  const streams = new Set<string>();
  for (const event of events) streams.add(keys.ingest(keys.shardOf(event.userId)));
  return [...streams];
}
