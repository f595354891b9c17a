/** What one logical client (one fleet slot, across its reconnects) saw of its user's critical events. */
export interface DeliveryCounts {
  /** Critical events the publisher got a 202 for, for this client's user. */
  expected: number;
  /** Distinct expected seqs received at least once. */
  delivered: number;
  /** Expected seqs never received (gaps and missing tail). */
  lost: number;
  /** The same seq received twice on one socket (a protocol violation). */
  duplicates: number;
  /** A seq received again after a reconnect, i.e. replayed: allowed, deduped by the client. */
  redelivered: number;
  /** A seq lower than one already received on the same socket. */
  outOfOrder: number;
  /** Seqs outside the expected range: events this run did not publish for the user. */
  unexpected: number;
  /** Events marked with another user's id: an isolation breach. */
  foreign: number;
}

export type CriticalOutcome = 'new' | 'duplicate' | 'redelivered';

/**
 * Loss and duplicate accounting for one fleet client. The position starts at
 * the welcome's `latestSeq` (the run publishes only after every client is
 * welcomed, so every later seq of the user is expected); each socket keeps its
 * own seen set because "twice on one connection" is the violation, while a
 * replay after a reconnect is legitimate at-least-once delivery.
 */
export class DeliveryLedger {
  private base: number | undefined;
  private readonly everSeen = new Set<number>();
  private socketSeen = new Set<number>();
  private socketHighest = 0;
  private socketResumeFrom = 0;
  private socketResumed: number | undefined;
  private contiguous = 0;
  private duplicates = 0;
  private redelivered = 0;
  private outOfOrder = 0;
  private foreign = 0;

  /**
   * The first welcome fixes the base: the welcome's latestSeq for a live
   * start, or the hello's lastSeq when the very first socket resumed (then
   * everything after it is expected, replayed or live). Later welcomes
   * (reconnects) keep the base.
   */
  onWelcome(latestSeq: number): void {
    if (this.base === undefined) {
      this.base = this.socketResumed ?? latestSeq;
      this.contiguous = this.base;
    }
  }

  /** A new socket starts (resuming from `resumeFrom` when given): duplicates are counted per socket. */
  onNewSocket(resumeFrom?: number): void {
    this.socketSeen = new Set<number>();
    this.socketHighest = 0;
    this.socketResumeFrom = resumeFrom ?? 0;
    this.socketResumed = resumeFrom;
  }

  /** Hot path: one call per critical event frame. */
  onCritical(seq: number): CriticalOutcome {
    if (this.socketSeen.has(seq)) {
      this.duplicates++;
      return 'duplicate';
    }
    this.socketSeen.add(seq);
    if (seq < this.socketHighest) this.outOfOrder++;
    else this.socketHighest = seq;
    if (this.everSeen.has(seq)) {
      this.redelivered++;
      return 'redelivered';
    }
    this.everSeen.add(seq);
    while (this.everSeen.has(this.contiguous + 1)) this.contiguous++;
    return 'new';
  }

  /** An event published for another user arrived here. */
  onForeign(): void {
    this.foreign++;
  }

  /** Highest seq with every seq from the base up to it received: what a cumulative ack may claim. */
  contiguousSeq(): number {
    return this.contiguous;
  }

  /**
   * What a cumulative ack on the current socket may claim: the contiguous
   * position, but never above what this socket was sent or resumed from (the
   * server closes with 4400 otherwise). The two differ only after a resume
   * over a gap, while the replay catches up.
   */
  ackableSeq(): number {
    return Math.min(this.contiguous, Math.max(this.socketHighest, this.socketResumeFrom));
  }

  /** The welcome's latestSeq, once welcomed. */
  baseSeq(): number | undefined {
    return this.base;
  }

  /** Delivered events with seq in (base, base + expected]. */
  deliveredCount(expected: number): number {
    const base = this.base ?? 0;
    let delivered = 0;
    for (const seq of this.everSeen) if (seq > base && seq <= base + expected) delivered++;
    return delivered;
  }

  counts(expected: number): DeliveryCounts {
    const delivered = this.deliveredCount(expected);
    return {
      expected,
      delivered,
      lost: expected - delivered,
      duplicates: this.duplicates,
      redelivered: this.redelivered,
      outOfOrder: this.outOfOrder,
      unexpected: this.everSeen.size - delivered,
      foreign: this.foreign,
    };
  }
}

/** Per-user totals: the sum over the user's clients. */
export interface UserDelivery extends DeliveryCounts {
  userId: string;
  clients: number;
}

export interface DeliveryTotals extends DeliveryCounts {
  users: number;
  clients: number;
  /** Users with any loss, duplicate, out-of-order or unexpected event. */
  usersWithProblems: number;
}

/** Sums client counts per user and overall. */
export function aggregateDelivery(
  clients: ReadonlyArray<{ userId: string; counts: DeliveryCounts }>,
): { totals: DeliveryTotals; perUser: UserDelivery[] } {
  const byUser = new Map<string, UserDelivery>();
  for (const { userId, counts } of clients) {
    const entry = byUser.get(userId) ?? { userId, clients: 0, ...zeroCounts() };
    entry.clients++;
    addCounts(entry, counts);
    byUser.set(userId, entry);
  }
  const perUser = [...byUser.values()];
  const totals: DeliveryTotals = {
    users: perUser.length,
    clients: 0,
    usersWithProblems: 0,
    ...zeroCounts(),
  };
  for (const user of perUser) {
    totals.clients += user.clients;
    addCounts(totals, user);
    if (hasProblem(user)) totals.usersWithProblems++;
  }
  return { totals, perUser };
}

/** Loss, duplicates, reordering or foreign events: anything the guarantees rule out. */
export function hasProblem(counts: DeliveryCounts): boolean {
  return (
    counts.lost > 0 ||
    counts.duplicates > 0 ||
    counts.outOfOrder > 0 ||
    counts.unexpected > 0 ||
    counts.foreign > 0
  );
}

function zeroCounts(): DeliveryCounts {
  return {
    expected: 0,
    delivered: 0,
    lost: 0,
    duplicates: 0,
    redelivered: 0,
    outOfOrder: 0,
    unexpected: 0,
    foreign: 0,
  };
}

function addCounts(into: DeliveryCounts, from: DeliveryCounts): void {
  into.expected += from.expected;
  into.delivered += from.delivered;
  into.lost += from.lost;
  into.duplicates += from.duplicates;
  into.redelivered += from.redelivered;
  into.outOfOrder += from.outOfOrder;
  into.unexpected += from.unexpected;
  into.foreign += from.foreign;
}
