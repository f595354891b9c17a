import type { InboxAppend } from '@agentwire/redis';

/** An append held while a snapshot of its run is read. */
export interface HeldAppend {
  frame: string;
  append: InboxAppend;
}

/** What to do with one live append on a connection (see RunCursors.admit). */
export const Admission = {
  Send: 0,
  /** Already covered by what the client has (a snapshot or a repeat). */
  Skip: 1,
  /** A snapshot of the run is owed and not read yet: it will cover this append. */
  Drop: 2,
  /** A snapshot of the run is being read: held until it arrives. */
  Hold: 3,
} as const;
export type Admission = (typeof Admission)[keyof typeof Admission];

/** Runs a connection remembers chunks of; the least recently added go first. */
const MAX_RUNS = 64;
/** Appends held per run while its snapshot is read; past it the run is owed again. */
const MAX_HELD = 1000;

interface Reading {
  /** Snapshot reads of the run not answered yet. */
  pending: number;
  held: HeldAppend[];
  /** Held appends overflowed: another snapshot is owed once these reads are answered. */
  overflowed: boolean;
}

/**
 * One connection's view of the runs it streams (protocol.md section 9,
 * "Delivery"): the highest chunk the client has of each stream, the runs it
 * is owed a snapshot of (appends were dropped for it), and the runs whose
 * snapshot is being read (their appends are held, then sent if the snapshot
 * does not cover them). With it, snapshot + later appends is exactly the
 * text: nothing twice, nothing missing. Created on a connection's first
 * run: most connections of a service without runs never have one.
 */
export class RunCursors {
  /** runId -> stream -> highest chunk the client has. */
  private readonly known = new Map<string, Map<string, number>>();
  private owed: Set<string> | undefined;
  private reading: Map<string, Reading> | undefined;

  /** Decides one live append; Send also records its chunk as the client's. */
  admit(append: InboxAppend): Admission {
    const { runId } = append;
    if (this.owed?.has(runId)) return Admission.Drop;
    if (this.reading?.has(runId)) return Admission.Hold;
    const streams = this.known.get(runId);
    const known = streams?.get(append.stream) ?? 0;
    if (append.chunk <= known) return Admission.Skip;
    return Admission.Send;
  }

  /** Records that the client got `append` (after admit said Send and it was staged). */
  sent(append: InboxAppend): void {
    this.streamsOf(append.runId).set(append.stream, append.chunk);
  }

  /** An append of `runId` was dropped: the connection owes the client a snapshot. True when newly owed. */
  owe(runId: string): boolean {
    if (this.reading?.has(runId)) {
      // Dropped while held, or covered by a read already under way? Held appends
      // are only dropped on overflow, which marks the read for another round.
      const reading = this.reading.get(runId) as Reading;
      reading.overflowed = true;
      return false;
    }
    if (this.owed?.has(runId)) return false;
    (this.owed ??= new Set()).add(runId);
    return true;
  }

  /** The runs this connection has sent appends or snapshots of. */
  followed(): string[] {
    return [...this.known.keys()];
  }

  get hasOwed(): boolean {
    return this.owed !== undefined && this.owed.size > 0;
  }

  /** The owed runs, now being read: their appends are held from here on. */
  takeOwed(): string[] {
    const runIds = this.owed === undefined ? [] : [...this.owed];
    this.owed = undefined;
    for (const runId of runIds) this.startRead(runId);
    return runIds;
  }

  /** A snapshot read of `runId` starts (owed, or a client's `sync`). */
  startRead(runId: string): void {
    this.owed?.delete(runId);
    this.reading ??= new Map();
    const reading = this.reading.get(runId);
    if (reading === undefined) this.reading.set(runId, { pending: 1, held: [], overflowed: false });
    else reading.pending++;
  }

  /** Holds an append of a run being read. */
  hold(frame: string, append: InboxAppend): void {
    const reading = this.reading?.get(append.runId);
    if (reading === undefined) return;
    if (reading.held.length >= MAX_HELD) {
      reading.held = [];
      reading.overflowed = true;
      return;
    }
    reading.held.push({ frame, append });
  }

  /**
   * A snapshot of `runId` was sent with these chunks per stream (undefined:
   * the run is not retained). Returns the held appends to deliver now (when
   * this was the last read under way), and whether another snapshot is owed
   * (held appends overflowed).
   */
  snapshotSent(
    runId: string,
    chunks: ReadonlyMap<string, number> | undefined,
  ): { release: HeldAppend[]; oweAgain: boolean } {
    if (chunks !== undefined) {
      const streams = this.streamsOf(runId);
      for (const [stream, chunk] of chunks) streams.set(stream, chunk);
    }
    const reading = this.reading?.get(runId);
    if (reading === undefined) return { release: [], oweAgain: false };
    reading.pending--;
    if (reading.pending > 0) return { release: [], oweAgain: false };
    this.reading?.delete(runId);
    if (reading.overflowed) return { release: [], oweAgain: true };
    return { release: reading.held, oweAgain: false };
  }

  private streamsOf(runId: string): Map<string, number> {
    let streams = this.known.get(runId);
    if (streams === undefined) {
      if (this.known.size >= MAX_RUNS) {
        const oldest = this.known.keys().next().value as string;
        this.known.delete(oldest);
      }
      streams = new Map();
      this.known.set(runId, streams);
    }
    return streams;
  }
}
