const INITIAL_SLOTS = 16;
/** Shared by every tracker that has not sent a critical event yet (most idle connections). */
const EMPTY = new Float64Array(0);

/**
 * Critical seqs sent on one connection and not yet acknowledged, with their
 * send times. Seqs sent on a connection only grow, so a ring of
 * (seq, sentAt) pairs in send order is enough: a cumulative ack pops from the
 * head. The ring starts small (most clients ack promptly) and doubles up to
 * `capacity`, which bounds memory per connection; when a client never acks,
 * the oldest entries are forgotten (counted in `forgotten`), but their age
 * is kept (`oldestUnackedSentAt`) and they still count once as timed out.
 *
 * Ack timeouts are counted by a periodic sweep (`countTimedOut`), not by
 * timers: entries are in send order, so the timed-out ones are a prefix of
 * the ring, and a sweep only looks at entries it has not counted yet.
 */
export class AckTracker {
  private seqs: Float64Array;
  private sentAt: Float64Array;
  private head = 0;
  private size = 0;
  private highestAcked = 0;
  /** Entries dropped from tracking because the ring was full. */
  forgotten = 0;
  /** Leading ring entries already counted as timed out. */
  private timedOutCounted = 0;
  /** Forgotten entries that were neither acked nor counted as timed out yet. */
  private forgottenUncounted = 0;
  private forgottenNewestSentAt = 0;
  /** Whether forgotten entries are still unacknowledged. */
  private forgottenPending = false;
  private forgottenOldestSentAt = 0;
  /** Highest forgotten seq: an ack at or above it clears the forgotten state. */
  private forgottenUpToSeq = 0;

  constructor(readonly capacity = 1024) {
    // The ring is allocated on the first critical event: idle connections cost no arrays.
    this.seqs = EMPTY;
    this.sentAt = EMPTY;
  }

  /** Unacknowledged seqs being tracked. */
  get pending(): number {
    return this.size;
  }

  /** The highest seq the client acknowledged on this connection (0 if none). */
  get acked(): number {
    return this.highestAcked;
  }

  recordSent(seq: number, now: number): void {
    if (this.size === this.seqs.length) {
      if (this.seqs.length < this.capacity) {
        this.grow();
      } else {
        this.forget();
      }
    }
    if (this.seqs.length === 0) return;
    const tail = (this.head + this.size) % this.seqs.length;
    this.seqs[tail] = seq;
    this.sentAt[tail] = now;
    this.size++;
  }

  /**
   * Applies a cumulative ack. Lower or repeated acks are ignored. Calls
   * `onConfirmed(latencyMs)` for every tracked seq it confirms and returns
   * how many that was.
   */
  ack(seq: number, now: number, onConfirmed?: (latencyMs: number) => void): number {
    if (seq <= this.highestAcked) return 0;
    this.highestAcked = seq;
    if (this.forgottenPending && seq >= this.forgottenUpToSeq) {
      this.forgottenPending = false;
      this.forgottenUncounted = 0;
    }
    let confirmed = 0;
    while (this.size > 0 && (this.seqs[this.head] as number) <= seq) {
      onConfirmed?.(now - (this.sentAt[this.head] as number));
      this.popHead();
      confirmed++;
    }
    return confirmed;
  }

  /**
   * Counts the unacknowledged entries sent at or before `cutoff` that were
   * not counted before: each entry times out at most once. Cost: the entries
   * newly counted, plus one comparison.
   */
  countTimedOut(cutoff: number): number {
    let counted = 0;
    // Forgotten entries are older than everything in the ring.
    if (this.forgottenUncounted > 0 && this.forgottenNewestSentAt <= cutoff) {
      counted += this.forgottenUncounted;
      this.forgottenUncounted = 0;
    }
    const length = this.seqs.length;
    while (
      this.timedOutCounted < this.size &&
      (this.sentAt[(this.head + this.timedOutCounted) % length] as number) <= cutoff
    ) {
      this.timedOutCounted++;
      counted++;
    }
    return counted;
  }

  /**
   * Send time of the oldest event still unacknowledged, forgotten ones
   * included; undefined when everything sent was acknowledged.
   */
  oldestUnackedSentAt(): number | undefined {
    if (this.forgottenPending) return this.forgottenOldestSentAt;
    return this.oldestPendingSentAt();
  }

  /** Drops the head entry to make room, remembering that it is still unacknowledged. */
  private forget(): void {
    const sentAt = this.sentAt[this.head] as number;
    if (this.timedOutCounted === 0) {
      this.forgottenUncounted++;
      this.forgottenNewestSentAt = sentAt;
    }
    if (!this.forgottenPending) {
      this.forgottenPending = true;
      this.forgottenOldestSentAt = sentAt;
    }
    this.forgottenUpToSeq = this.seqs[this.head] as number;
    this.forgotten++;
    this.popHead();
  }

  private popHead(): void {
    this.head = (this.head + 1) % this.seqs.length;
    this.size--;
    if (this.timedOutCounted > 0) this.timedOutCounted--;
  }

  /** Doubles the ring (up to capacity), unrolling it so the head is at 0. */
  private grow(): void {
    const length = Math.min(Math.max(this.seqs.length * 2, INITIAL_SLOTS), this.capacity);
    const seqs = new Float64Array(length);
    const sentAt = new Float64Array(length);
    for (let i = 0; i < this.size; i++) {
      const from = (this.head + i) % this.seqs.length;
      seqs[i] = this.seqs[from] as number;
      sentAt[i] = this.sentAt[from] as number;
    }
    this.seqs = seqs;
    this.sentAt = sentAt;
    this.head = 0;
  }

  /** Send time of the oldest unacknowledged seq, for ack-timeout checks. */
  oldestPendingSentAt(): number | undefined {
    return this.size > 0 ? this.sentAt[this.head] : undefined;
  }
}
