import { appendTextOf, eventNumberOf } from './fleet-events.js';

/** What one logical client saw of its user's non-critical events or appends. */
export interface NonCriticalCounts {
  /** Events the publisher got a 202 for, for this client's user. */
  expected: number;
  /** Plain events: distinct ids received. Appends: chunks the client holds (live or by snapshot). */
  delivered: number;
  /** Expected but never received (appends: neither live nor in a snapshot). */
  lost: number;
  /** Plain events: an id received twice. Appends: a chunk at or below one the client held. */
  duplicates: number;
  /** Delivered beyond what was accepted: events this run did not publish for the user. */
  unexpected: number;
  /** Appends applied live with chunk == held + 1: the text arrived in order, exactly. */
  live: number;
  /** Appends the client got in a snapshot instead of live (the edge dropped them for a slow connection). */
  bySnapshot: number;
  /** Snapshot frames received. */
  snapshots: number;
  /** Appends that skipped chunks with no snapshot to cover them: chunks were not contiguous. */
  gaps: number;
  /** Appends whose text is not the text sent with their id. */
  wrongText: number;
  /** Events marked with another user's id. */
  foreign: number;
}

interface StreamText {
  chunks: number;
  parts: string[];
}

const FIELD_SEP = '\n';

/**
 * Accounting of non-critical events for one fleet client, across its
 * sockets. Plain events are counted by id (they have no seq; an edge may
 * drop them for a slow connection, which shows as lost). Appends follow the
 * client rule of protocol.md section 9: ignore chunk <= held, append chunk ==
 * held + 1, and a snapshot replaces the text when it holds more; every
 * append's text is checked against the text sent with its id, and the text
 * put together is kept for a comparison with the server's at the end.
 */
export class NonCriticalLedger {
  private readonly ids = new Set<string>();
  private readonly streams = new Map<string, StreamText>();
  private duplicates = 0;
  private live = 0;
  private bySnapshot = 0;
  private snapshots = 0;
  private gaps = 0;
  private wrongText = 0;
  private foreign = 0;

  /** Hot path: one call per non-critical event frame. True when the event is new (a latency sample). */
  onEvent(frame: Record<string, unknown>, userId: string): boolean {
    const data = frame.data as { user?: unknown } | undefined;
    if (data && typeof data.user === 'string' && data.user !== userId) {
      this.foreign++;
      return false;
    }
    const id = typeof frame.id === 'string' ? frame.id : '';
    if (typeof frame.append === 'string' && typeof frame.chunk === 'number') {
      return this.onAppend(
        id,
        String(frame.runId),
        String(frame.stream),
        frame.chunk,
        frame.append,
      );
    }
    if (this.ids.has(id)) {
      this.duplicates++;
      return false;
    }
    this.ids.add(id);
    return true;
  }

  /** A `snapshot` frame: every stream it holds further than the client replaces the client's text. */
  onSnapshot(frame: Record<string, unknown>): void {
    this.snapshots++;
    const runId = String(frame.runId);
    const streams = (frame.streams ?? {}) as Record<string, { text?: unknown; chunks?: unknown }>;
    for (const [name, stream] of Object.entries(streams)) {
      if (typeof stream.chunks !== 'number' || typeof stream.text !== 'string') continue;
      const held = this.streamOf(runId, name);
      if (stream.chunks <= held.chunks) continue;
      this.bySnapshot += stream.chunks - held.chunks;
      held.chunks = stream.chunks;
      held.parts = [stream.text];
    }
  }

  /** The text the client put together for a stream, and its chunks. */
  textOf(runId: string, stream: string): { text: string; chunks: number } {
    const held = this.streams.get(runId + FIELD_SEP + stream);
    return held ? { text: held.parts.join(''), chunks: held.chunks } : { text: '', chunks: 0 };
  }

  /** Counts against `expected` accepted events of the user (appends: all of one stream). */
  counts(expected: number): NonCriticalCounts {
    let delivered = this.ids.size;
    for (const held of this.streams.values()) delivered += held.chunks;
    return {
      expected,
      delivered,
      lost: Math.max(0, expected - delivered),
      duplicates: this.duplicates,
      unexpected: Math.max(0, delivered - expected),
      live: this.live,
      bySnapshot: this.bySnapshot,
      snapshots: this.snapshots,
      gaps: this.gaps,
      wrongText: this.wrongText,
      foreign: this.foreign,
    };
  }

  private onAppend(
    id: string,
    runId: string,
    stream: string,
    chunk: number,
    text: string,
  ): boolean {
    const held = this.streamOf(runId, stream);
    if (chunk <= held.chunks) {
      this.duplicates++;
      return false;
    }
    if (chunk > held.chunks + 1) this.gaps += chunk - held.chunks - 1;
    if (text !== appendTextOf(eventNumberOf(id))) this.wrongText++;
    held.chunks = chunk;
    held.parts.push(text);
    this.live++;
    return true;
  }

  private streamOf(runId: string, stream: string): StreamText {
    const key = runId + FIELD_SEP + stream;
    let held = this.streams.get(key);
    if (held === undefined) {
      held = { chunks: 0, parts: [] };
      this.streams.set(key, held);
    }
    return held;
  }
}

/** Sums of the fleet's clients, plus the final comparison with the server's texts. */
export interface NonCriticalTotals extends NonCriticalCounts {
  clients: number;
  /** Clients whose text (and chunks) differ from the server's snapshot at the end (appends only). */
  textMismatches: number;
  /** Clients whose final comparison could not be made (the snapshot request failed). */
  textUnchecked: number;
}

/** Adds the counts of every client. */
export function sumNonCritical(
  counts: readonly NonCriticalCounts[],
  textMismatches = 0,
  textUnchecked = 0,
): NonCriticalTotals {
  const totals: NonCriticalTotals = {
    clients: counts.length,
    expected: 0,
    delivered: 0,
    lost: 0,
    duplicates: 0,
    unexpected: 0,
    live: 0,
    bySnapshot: 0,
    snapshots: 0,
    gaps: 0,
    wrongText: 0,
    foreign: 0,
    textMismatches,
    textUnchecked,
  };
  for (const c of counts) {
    totals.expected += c.expected;
    totals.delivered += c.delivered;
    totals.lost += c.lost;
    totals.duplicates += c.duplicates;
    totals.unexpected += c.unexpected;
    totals.live += c.live;
    totals.bySnapshot += c.bySnapshot;
    totals.snapshots += c.snapshots;
    totals.gaps += c.gaps;
    totals.wrongText += c.wrongText;
    totals.foreign += c.foreign;
  }
  return totals;
}

/**
 * Why a non-critical fleet run fails: anything lost, repeated, out of
 * order, wrong, or (appends) dropped for a slow connection and covered by a
 * snapshot instead: the rate comparison asks for every event live, as it
 * does of plain non-critical events.
 */
export function nonCriticalFailures(totals: NonCriticalTotals): string[] {
  const reasons: string[] = [];
  if (totals.lost > 0) reasons.push(`${totals.lost} non-critical deliveries lost`);
  if (totals.duplicates > 0) reasons.push(`${totals.duplicates} repeated on one client`);
  if (totals.unexpected > 0) reasons.push(`${totals.unexpected} unexpected non-critical events`);
  if (totals.gaps > 0) reasons.push(`${totals.gaps} chunks skipped without a snapshot`);
  if (totals.bySnapshot > 0)
    reasons.push(`${totals.bySnapshot} appends dropped and covered by a snapshot`);
  if (totals.wrongText > 0) reasons.push(`${totals.wrongText} appends with the wrong text`);
  if (totals.textMismatches > 0)
    reasons.push(`${totals.textMismatches} clients' texts differ from the server's`);
  if (totals.textUnchecked > 0)
    reasons.push(`${totals.textUnchecked} clients' texts could not be checked`);
  if (totals.foreign > 0) reasons.push(`${totals.foreign} events of another user delivered`);
  return reasons;
}
