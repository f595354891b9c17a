import type { RunStatus, RunStreamSnapshot } from '@agentwire/protocol';

/** One text stream of a run as the client knows it. */
export type RunStreamView = Readonly<RunStreamSnapshot>;

/**
 * What the client knows about one agent run (protocol.md section 9). Every
 * change produces a new, frozen object, so `previous !== next` says that
 * something changed (what React's `useSyncExternalStore` relies on) and a
 * view handed out earlier never changes under its holder.
 */
export interface RunView {
  readonly runId: string;
  /**
   * `running` from the run's first event, `ended` after a critical event named
   * in `runEndEvents`, `stalled` after `run_stalled` (running again on its next
   * event), `unknown` when the server keeps no such run (or, after `sync()` of
   * a run the client never saw, until the answer came).
   */
  readonly status: RunStatus;
  /** From the server's snapshot, else the time of the first event the client saw of the run. */
  readonly startedTs: number | undefined;
  /** Time of the run's last event the client knows of. */
  readonly updatedTs: number | undefined;
  /** Text streams by name (`main` when the producer named none). */
  readonly streams: Readonly<Record<string, RunStreamView>>;
  /**
   * True from a gap in a stream's chunks (or `sync()`) until the snapshot
   * answering it arrived: meanwhile the text may be behind.
   */
  readonly syncing: boolean;
}

/** Freezes a view built from fresh objects (the streams record included). */
export function freezeView(view: RunView): RunView {
  Object.freeze(view.streams);
  return Object.freeze(view);
}

/** The named stream, own properties only (`constructor` is a valid stream name). */
export function streamOf(view: RunView | undefined, name: string): RunStreamView | undefined {
  return view !== undefined && Object.hasOwn(view.streams, name) ? view.streams[name] : undefined;
}
