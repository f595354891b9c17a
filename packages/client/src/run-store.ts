import { Limits, type EventFrame, type SnapshotFrame } from '@agentwire/protocol';
import { appendCapped, capText } from './capped-text.js';
import { statusAfterEvent } from './run-status.js';
import { freezeView, streamOf, type RunStreamView, type RunView } from './run-view.js';

/** A sync still unanswered after this long is sent again on the run's next event. */
export const SYNC_RETRY_MS = 5000;
/**
 * Most syncs sent at once after a welcome: `sync` frames share the upstream
 * rate limit (a burst of 40 by default) with publishes. The rest are sent on
 * their run's next event.
 */
export const MAX_SYNCS_AFTER_WELCOME = 20;
/** Appends held per run while its sync is unanswered; later ones wait for the next gap. */
export const MAX_BUFFERED_APPENDS = 1000;

export interface RunStoreOptions {
  /** Most runs kept; the run updated longest ago goes first. */
  maxRuns: number;
  /** Critical event names that end a run. */
  endEvents: readonly string[];
  /** Longest text kept per stream, in UTF-16 code units. */
  maxTextLength: number;
  now: () => number;
  /** Asks the server for one snapshot of the run; false when there is no connection to ask on. */
  requestSnapshot: (runId: string) => boolean;
  /** Called once per change of a run, with its new view. */
  onChange: (view: RunView) => void;
}

/** A snapshot asked for and not yet received. */
interface PendingSync {
  /** When it was sent on the current connection; undefined while it still has to be sent. */
  sentAt: number | undefined;
  /** The run's appends that arrived meanwhile, in arrival order. */
  buffered: EventFrame[];
}

interface RunRecord {
  view: RunView;
  /** Critical seqs up to this one (of the current epoch) are already in the last snapshot. */
  coveredSeq: number;
  /** The connection the view is known to be current on (a snapshot, or first seen there). */
  connection: number;
  /** When the store first saw the run: the order of `list()`. */
  order: number;
  sync: PendingSync | undefined;
}

/**
 * Keeps each run's status and text streams from the frames of the current
 * connection (protocol.md section 9). Pure logic: the client feeds it frames
 * and sends the syncs it asks for.
 *
 * - Appends follow the chunk rule: `chunk <= known` is ignored, `known + 1`
 *   is appended, anything higher asks for a snapshot, once, and holds the
 *   run's appends until it arrives; those beyond the snapshot's chunks are
 *   then applied (over a WebSocket the snapshot already holds them all, but
 *   over SSE it comes from a separate HTTP request).
 * - A snapshot replaces the run's status and streams. `unknown` (the server
 *   keeps no such run) leaves the run in the store with that status and no
 *   streams: its chunk numbers start over if the run id comes back.
 * - Snapshots right after a welcome describe the run as of the welcome, so
 *   replayed critical events up to its `latestSeq` change nothing of such a
 *   run. Runs the client still had as running or stalled that got no snapshot
 *   there ended or were forgotten while it was away: it asks for those once
 *   the snapshots are over (the first other frame).
 */
export class RunStore {
  readonly #opts: RunStoreOptions;
  readonly #endEvents: ReadonlySet<string>;
  /** In order of last update: the first one is evicted first. */
  readonly #runs = new Map<string, RunRecord>();
  #list: readonly RunView[] | undefined;
  #order = 0;
  #connection = 0;
  #epoch: string | undefined;
  /** The welcome's latestSeq: what the snapshots of this connection cover. */
  #horizon = 0;
  #awaitingSnapshots = false;

  constructor(options: RunStoreOptions) {
    this.#opts = options;
    this.#endEvents = new Set(options.endEvents);
  }

  get(runId: string): RunView | undefined {
    return this.#runs.get(runId)?.view;
  }

  /** Every kept run, in the order the client first saw them; the same array until a run changes. */
  list(): readonly RunView[] {
    this.#list ??= Object.freeze(
      [...this.#runs.values()].sort((a, b) => a.order - b.order).map((record) => record.view),
    );
    return this.#list;
  }

  /** A connection was welcomed: its snapshots follow. */
  connected(epoch: string, latestSeq: number): void {
    this.#connection++;
    const sameHistory = epoch === this.#epoch;
    this.#epoch = epoch;
    this.#horizon = latestSeq;
    this.#awaitingSnapshots = true;
    for (const record of this.#runs.values()) {
      if (!sameHistory) record.coveredSeq = 0;
      // An answer on the old connection is lost with it.
      if (record.sync !== undefined) record.sync.sentAt = undefined;
    }
  }

  /** The snapshots after the welcome are over: ask about the runs they left out. */
  snapshotsDone(): void {
    if (!this.#awaitingSnapshots) return;
    this.#awaitingSnapshots = false;
    let budget = MAX_SYNCS_AFTER_WELCOME;
    // Most recently updated first; a copy, since updating a run moves it.
    for (const [runId, record] of [...this.#runs].reverse()) {
      const { status } = record.view;
      const stale =
        record.connection !== this.#connection && (status === 'running' || status === 'stalled');
      if (record.sync === undefined && !stale) continue;
      if (budget <= 0) break;
      budget--;
      this.#requestSync(runId, record, false);
    }
  }

  /** An event frame of the current connection (critical ones only when in order). */
  applyEvent(event: EventFrame): void {
    this.snapshotsDone();
    const runId = event.runId;
    if (runId === undefined) return;
    const record = this.#runs.get(runId);
    const sync = record?.sync;
    if (
      record !== undefined &&
      sync !== undefined &&
      (sync.sentAt === undefined || this.#opts.now() - sync.sentAt >= SYNC_RETRY_MS)
    ) {
      this.#send(runId, sync);
    }
    const view =
      typeof event.append === 'string'
        ? this.#append(runId, event)
        : this.#statusEvent(runId, record, event);
    if (view !== undefined) this.#opts.onChange(view);
  }

  /** A snapshot frame (or GET /v1/runs answer): the run's state from the server. */
  applySnapshot(frame: SnapshotFrame): void {
    const { runId } = frame;
    const max = this.#opts.maxTextLength;
    const streams = Object.fromEntries(
      Object.entries(frame.streams).map(([name, stream]): [string, RunStreamView] => {
        const capped = capText(stream.text, max);
        return [
          name,
          Object.freeze({
            text: capped.text,
            chunks: stream.chunks,
            truncated: stream.truncated || capped.truncated,
          }),
        ];
      }),
    );
    const record = this.#put(
      runId,
      freezeView({
        runId,
        status: frame.status,
        startedTs: frame.startedTs,
        updatedTs: frame.updatedTs,
        streams,
        syncing: false,
      }),
    );
    const buffered = record.sync?.buffered ?? [];
    record.sync = undefined;
    record.coveredSeq = this.#horizon;
    record.connection = this.#connection;
    // Appends that came while waiting continue the text where they fit the
    // chunk rule; a new gap among them asks again and holds the rest.
    for (const event of buffered) this.#append(runId, event);
    this.#opts.onChange(record.view);
  }

  /** Asks for a snapshot of the run now (or after the next welcome when offline). */
  sync(runId: string): void {
    const record =
      this.#runs.get(runId) ??
      this.#put(
        runId,
        freezeView({
          runId,
          status: 'unknown',
          startedTs: undefined,
          updatedTs: undefined,
          streams: {},
          syncing: false,
        }),
      );
    this.#requestSync(runId, record, true);
  }

  /** Starts (or re-sends) the run's sync and shows it in the view. */
  #requestSync(runId: string, record: RunRecord, force: boolean): void {
    const sync = (record.sync ??= { sentAt: undefined, buffered: [] });
    if (force || sync.sentAt === undefined) this.#send(runId, sync);
    if (!record.view.syncing) {
      this.#opts.onChange(this.#put(runId, freezeView({ ...record.view, syncing: true })).view);
    }
  }

  #send(runId: string, sync: PendingSync): void {
    sync.sentAt = this.#opts.requestSnapshot(runId) ? this.#opts.now() : undefined;
  }

  /** Hot path: every append passes here. Returns the new view, or undefined when nothing changed. */
  #append(runId: string, event: EventFrame): RunView | undefined {
    const record = this.#runs.get(runId);
    if (record?.sync !== undefined) {
      if (record.sync.buffered.length < MAX_BUFFERED_APPENDS) record.sync.buffered.push(event);
      return undefined;
    }
    const previous = record?.view;
    const name = event.stream ?? Limits.defaultStreamName;
    const stream = streamOf(previous, name);
    const known = stream?.chunks ?? 0;
    const chunk = event.chunk ?? 0;
    if (chunk <= known) return undefined;
    if (chunk > known + 1) {
      // Appends were missed: hold this one and ask for a snapshot.
      const created = this.#putAfterEvent(runId, event, previous?.streams ?? {}, true);
      created.sync = { sentAt: undefined, buffered: [event] };
      this.#send(runId, created.sync);
      return created.view;
    }
    const text = appendCapped(
      stream ?? { text: '', truncated: false },
      event.append ?? '',
      this.#opts.maxTextLength,
    );
    const next: RunStreamView = Object.freeze({ ...text, chunks: chunk });
    return this.#putAfterEvent(runId, event, { ...previous?.streams, [name]: next }, false).view;
  }

  /** A run's event other than an append: its status and times. */
  #statusEvent(
    runId: string,
    record: RunRecord | undefined,
    event: EventFrame,
  ): RunView | undefined {
    // A replayed event the welcome's snapshot already took into account.
    if (record !== undefined && event.critical && (event.seq ?? 0) <= record.coveredSeq) {
      return undefined;
    }
    const streams = record?.view.streams ?? {};
    // The run's end says how many chunks each stream has: fewer here means
    // appends were lost with a connection; a snapshot brings them.
    const short = record?.sync === undefined && isShort(streams, event.runChunks);
    const stored = this.#putAfterEvent(runId, event, streams, record?.sync !== undefined || short);
    if (short) {
      stored.sync = { sentAt: undefined, buffered: [] };
      this.#send(runId, stored.sync);
    }
    return stored.view;
  }

  /** Stores the run's view after one of its events: its status and times follow the event. */
  #putAfterEvent(
    runId: string,
    event: EventFrame,
    streams: Readonly<Record<string, RunStreamView>>,
    syncing: boolean,
  ): RunRecord {
    const previous = this.#runs.get(runId)?.view;
    return this.#put(
      runId,
      freezeView({
        runId,
        status: statusAfterEvent(previous?.status, event, this.#endEvents),
        startedTs: previous?.startedTs ?? event.ts,
        updatedTs: Math.max(previous?.updatedTs ?? 0, event.ts),
        streams,
        syncing,
      }),
    );
  }

  /** Stores the run's new view as its most recent update, evicting beyond maxRuns. */
  #put(runId: string, view: RunView): RunRecord {
    let record = this.#runs.get(runId);
    if (record === undefined) {
      record = {
        view,
        coveredSeq: 0,
        connection: this.#connection,
        order: this.#order++,
        sync: undefined,
      };
    } else {
      this.#runs.delete(runId);
      record.view = view;
    }
    this.#runs.set(runId, record);
    this.#list = undefined;
    if (this.#runs.size > this.#opts.maxRuns) {
      const oldest = this.#runs.keys().next().value;
      if (oldest !== undefined) this.#runs.delete(oldest);
    }
    return record;
  }
}

/** True when a stream has fewer chunks than the run's end says it has. */
function isShort(
  streams: Readonly<Record<string, RunStreamView>>,
  final: Readonly<Record<string, number>> | undefined,
): boolean {
  if (final === undefined) return false;
  for (const [name, chunks] of Object.entries(final)) {
    if ((streams[name]?.chunks ?? 0) < chunks) return true;
  }
  return false;
}
