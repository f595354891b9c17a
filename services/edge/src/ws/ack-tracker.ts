/**
 * Critical seqs sent on one connection and not yet acknowledged, with their
 * send times. Seqs sent on a connection only grow, so a ring of
 * (seq, sentAt) pairs in send order is enough: a cumulative ack pops from the
 * head. Fixed capacity keeps memory per connection bounded; when a client
 * never acks, the oldest entries are forgotten (counted in `forgotten`).
 */
export class AckTracker {
  private readonly seqs: Float64Array;
  private readonly sentAt: Float64Array;
  private head = 0;
  private size = 0;
  private highestAcked = 0;
  /** Entries dropped from tracking because the ring was full. */
  forgotten = 0;

  constructor(readonly capacity = 1024) {
    this.seqs = new Float64Array(capacity);
    this.sentAt = new Float64Array(capacity);
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
    if (this.size === this.capacity) {
      this.head = (this.head + 1) % this.capacity;
      this.size--;
      this.forgotten++;
    }
    const tail = (this.head + this.size) % this.capacity;
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
    let confirmed = 0;
    while (this.size > 0 && (this.seqs[this.head] as number) <= seq) {
      onConfirmed?.(now - (this.sentAt[this.head] as number));
      this.head = (this.head + 1) % this.capacity;
      this.size--;
      confirmed++;
    }
    return confirmed;
  }

  /** Send time of the oldest unacknowledged seq, for ack-timeout checks. */
  oldestPendingSentAt(): number | undefined {
    return this.size > 0 ? this.sentAt[this.head] : undefined;
  }
}
