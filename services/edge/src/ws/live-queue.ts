import type { InboxAppend } from '@agentwire/redis';

/** One inbox entry held for a connection that is not live yet. */
export interface QueuedEvent {
  /** Critical seq; 0 for non-critical. */
  seq: number;
  /** The complete event frame, sent verbatim. */
  frame: string;
  epoch: string;
  /** Appends only: their place in the run. */
  append?: InboxAppend | undefined;
}

/**
 * Live events that arrive for a connection while it opens its session or
 * replays its log. Bounded by entries and bytes: on overflow the queue is
 * dropped and `overflowed` is set, and the replay reads the log once more
 * before going live. Nothing critical is lost that way, because the buffer
 * writes every critical event to the log before it forwards it; only queued
 * non-critical events are lost, which the contract allows. Dropped appends
 * are remembered (takeDroppedAppends): the connection then owes the client
 * a snapshot of each run they were not covered in.
 */
export class LiveQueue {
  private items: QueuedEvent[] = [];
  private bytes = 0;
  private overflow = false;
  private dropped: InboxAppend[] | undefined;

  constructor(
    private readonly maxItems: number,
    private readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.items.length;
  }

  /** Holds no event, no overflow and no dropped append: the same as a new queue. */
  get isEmpty(): boolean {
    return this.items.length === 0 && !this.overflow && this.dropped === undefined;
  }

  push(event: QueuedEvent): void {
    if (this.items.length >= this.maxItems || this.bytes + event.frame.length > this.maxBytes) {
      for (const item of this.items) this.noteDropped(item);
      this.noteDropped(event);
      this.items = [];
      this.bytes = 0;
      this.overflow = true;
      return;
    }
    this.items.push(event);
    this.bytes += event.frame.length;
  }

  /** The appends dropped since the last call (once). */
  takeDroppedAppends(): InboxAppend[] | undefined {
    const dropped = this.dropped;
    this.dropped = undefined;
    return dropped;
  }

  private noteDropped(item: QueuedEvent): void {
    if (item.append !== undefined) (this.dropped ??= []).push(item.append);
  }

  /** True (once) when events were dropped since the last call: read the log again. */
  takeOverflow(): boolean {
    const overflowed = this.overflow;
    this.overflow = false;
    return overflowed;
  }

  /**
   * Empties the queue and returns what is still to be sent after the
   * connection has sent every critical seq up to `lastSentSeq`, in order:
   * critical events above it, and the non-critical events that came after the
   * last already-sent critical one. Non-critical events queued before that
   * one are older than what the replay sent; sending them now would break
   * ingest order, so they are dropped (best effort, as the contract allows).
   */
  drain(lastSentSeq: number): QueuedEvent[] {
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    let start = 0;
    for (let i = items.length - 1; i >= 0; i--) {
      const seq = (items[i] as QueuedEvent).seq;
      if (seq > 0 && seq <= lastSentSeq) {
        start = i + 1;
        break;
      }
    }
    const out: QueuedEvent[] = [];
    for (let i = 0; i < start; i++) this.noteDropped(items[i] as QueuedEvent);
    for (let i = start; i < items.length; i++) {
      const item = items[i] as QueuedEvent;
      if (item.seq === 0 || item.seq > lastSentSeq) out.push(item);
    }
    return out;
  }

  clear(): void {
    this.items = [];
    this.bytes = 0;
    this.overflow = false;
    this.dropped = undefined;
  }
}
