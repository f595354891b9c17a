import { CloseCode } from '@agentwire/protocol';
import type { InboxAppend } from '@agentwire/redis';
import type { EdgeMetrics } from '../metrics.js';
import { AckTracker } from './ack-tracker.js';
import type { ConnectionLimits } from './connection-limits.js';
import { PublishRateLimit, type PublishAdmission } from './publish-rate-limit.js';
import { reconnectFrame } from './server-frames.js';
import { LiveQueue, type QueuedEvent } from './live-queue.js';
import { Admission, RunCursors } from './run-cursors.js';

/**
 * awaiting_hello -> opening (hello accepted: auth, openSession) -> replaying
 * (welcome sent, log pages) -> live; `replaying` again while a gap is filled
 * from the log; closed from any state.
 */
export type ConnectionState = 'awaiting_hello' | 'opening' | 'replaying' | 'live' | 'closed';

/** Whether this connection's route is registered in the user's routes hash. */
export type SessionState = 'none' | 'opening' | 'open';

/**
 * The connection sink: where a connection writes its frames. A uWS WebSocket
 * is one; an SSE stream (sse/sse-sink.ts) is another, so every server frame,
 * present or future, reaches both transports through the same delivery code.
 * A fake in unit tests.
 */
export interface WireSocket {
  /** 1 sent, 0 sent but buffered (backpressure), 2 dropped (over maxBackpressure). */
  send(message: string, isBinary?: boolean, compress?: boolean): number;
  getBufferedAmount(): number;
  /** Closes with a close frame; uWS calls the close handler synchronously. */
  end(code?: number, shortMessage?: string): void;
  cork(cb: () => void): unknown;
}

/** Everything connections share: limits, metrics, and the replay hook. */
export interface ConnectionShared {
  limits: ConnectionLimits;
  metrics: Pick<
    EdgeMetrics,
    | 'eventsSentCritical'
    | 'eventsSentNonCritical'
    | 'nonCriticalDropped'
    | 'slowConsumerCloses'
    | 'acksConfirmed'
    | 'ackLatency'
  >;
  /** Reads the log from `lastSentSeq + 1`, then calls `goLive` (see replay.ts). */
  catchUp(conn: Connection): void;
  /** Records one ack latency (ms): one function for all connections. */
  observeAckMs(ms: number): void;
  /** Reads and sends the snapshots the connection owes, once it is writable (run-snapshots.ts). */
  serveOwedSnapshots(conn: Connection): void;
}

const SEND_DROPPED = 2;
/** Close reasons must fit a control frame (123 bytes). */
const MAX_REASON = 120;
const NO_EVENTS: readonly QueuedEvent[] = [];

/**
 * What a connection needs only while it replays, catches up a gap, waits
 * for its socket to drain, publishes or streams runs: created on first use,
 * so an idle live connection holds none of it (each field on Connection
 * costs 80 KB at 10,000 idle connections; docs/benchmarks.md, "Issue 8,
 * session 3").
 */
class ConnectionExtras {
  /** Live events held during a replay; released when the connection goes live. */
  liveQueue: LiveQueue | undefined = undefined;
  writableWaiters: Array<() => void> | undefined = undefined;
  /** lastSentSeq when the last gap catch-up started: one catch-up per gap. */
  catchUpFrom = -1;
  /** Created on the first publish: most connections never publish. */
  publishRate: PublishRateLimit | undefined = undefined;
  /** Created with the first run this connection streams (run-cursors.ts). */
  runs: RunCursors | undefined = undefined;
  /** serveOwedSnapshots is under way: owing more needs no second call. */
  servingSnapshots = false;
}

/**
 * One WebSocket connection: its protocol state and everything it has sent.
 * All sends go through here so that three rules hold in one place: no
 * critical seq is sent twice or out of order, the send buffer limits apply,
 * and heartbeats know when something was last sent.
 */
export class Connection {
  state: ConnectionState = 'awaiting_hello';
  session: SessionState = 'none';
  userId = '';
  epoch = '';
  /** Highest critical seq sent (or, on a live start, treated as sent). */
  lastSentSeq = 0;
  /** The hello's lastSeq (0 when absent): acks may go up to it. */
  helloLastSeq = 0;
  lastSendAt: number;
  helloTimer: NodeJS.Timeout | undefined;
  /** 'sse' for a /v1/sse stream: its acks arrive by POST /v1/ack, maybe at another edge. */
  transport: 'ws' | 'sse' = 'ws';
  /** Critical events sent and not acknowledged; created with the first one. */
  private ackTracker: AckTracker | undefined;

  private ws: WireSocket | undefined;
  /** Frames staged for the next corked write; created when first needed (idle connections have none). */
  private outbox: string[] | undefined;
  private outboxBytes = 0;
  private outboxCritical = 0;
  /** Rarely needed state, created on first use (see ConnectionExtras). */
  private extras: ConnectionExtras | undefined;

  constructor(
    readonly id: string,
    /** User id from an `Authorization` header on upgrade, if any. */
    readonly preAuthUserId: string | undefined,
    private readonly shared: ConnectionShared,
    now: number,
  ) {
    this.lastSendAt = now;
  }

  private more(): ConnectionExtras {
    return (this.extras ??= new ConnectionExtras());
  }

  private get queue(): LiveQueue {
    const extras = this.more();
    const { limits } = this.shared;
    extras.liveQueue ??= new LiveQueue(limits.queueMaxItems, limits.queueMaxBytes);
    return extras.liveQueue;
  }

  /** True (once) when live events overflowed the queue since the last call: read the log again. */
  takeQueueOverflow(): boolean {
    return this.extras?.liveQueue?.takeOverflow() ?? false;
  }

  attach(ws: WireSocket): void {
    this.ws = ws;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** True once welcome was sent: the connection may receive events and heartbeats. */
  get isWelcomed(): boolean {
    return this.state === 'replaying' || this.state === 'live';
  }

  bufferedAmount(): number {
    return this.state === 'closed' || this.ws === undefined ? 0 : this.ws.getBufferedAmount();
  }

  /**
   * Hot path: one inbox entry for this connection's user. Live: decided and
   * staged in the outbox (sent corked by `flushOutbox`, once per batch; the
   * connection is pushed on `dirty` the first time). Opening or replaying:
   * queued until the replay has caught up.
   */
  offer(
    seq: number,
    frame: string,
    epoch: string,
    now: number,
    dirty: Connection[],
    append?: InboxAppend,
  ): void {
    if (this.state === 'live') {
      const staged = this.outbox?.length ?? 0;
      this.deliver(seq, frame, epoch, now, append);
      if (staged === 0 && (this.outbox?.length ?? 0) > 0) dirty.push(this);
    } else if (this.state === 'replaying' || this.state === 'opening') {
      this.queue.push({ seq, frame, epoch, append });
    }
  }

  /** Sends what `offer` staged, in one corked write. */
  flushOutbox(now: number): void {
    const outbox = this.outbox;
    if (outbox === undefined || outbox.length === 0) return;
    const critical = this.outboxCritical;
    this.outbox = undefined;
    this.outboxBytes = 0;
    this.outboxCritical = 0;
    const ws = this.ws;
    if (this.state === 'closed' || ws === undefined) return;
    let dropped = false;
    ws.cork(() => {
      for (let i = 0; i < outbox.length && !dropped; i++) {
        dropped = ws.send(outbox[i] as string, false, false) === SEND_DROPPED;
      }
    });
    this.lastSendAt = now;
    this.shared.metrics.eventsSentCritical.inc(critical);
    this.shared.metrics.eventsSentNonCritical.inc(outbox.length - critical);
    if (dropped) this.closeSlowConsumer();
  }

  /** Sends a control frame (welcome, heartbeat, error) now. False when the socket is gone. */
  sendControl(text: string, now: number): boolean {
    const ws = this.ws;
    if (this.state === 'closed' || ws === undefined) return false;
    let status = 0;
    ws.cork(() => {
      status = ws.send(text, false, false);
    });
    this.lastSendAt = now;
    if (status === SEND_DROPPED) {
      this.closeSlowConsumer();
      return false;
    }
    return true;
  }

  /** Runs `fn` with this socket corked, so a burst of sends leaves in one write. */
  cork(fn: () => void): void {
    if (this.state !== 'closed' && this.ws !== undefined) this.ws.cork(fn);
  }

  /**
   * Sends one event read from the user's log (call inside `cork`). Seqs at
   * or below what was already sent are skipped. False when the socket closed.
   */
  sendReplayed(seq: number, frame: string, now: number): boolean {
    const ws = this.ws;
    if (this.state === 'closed' || ws === undefined) return false;
    if (seq <= this.lastSentSeq) return true;
    if (ws.send(frame, false, false) === SEND_DROPPED) {
      this.closeSlowConsumer();
      return false;
    }
    this.lastSentSeq = seq;
    this.trackSent(seq, now);
    this.lastSendAt = now;
    this.shared.metrics.eventsSentCritical.inc();
    return true;
  }

  /**
   * Reads the log from `lastSentSeq + 1` while live events queue, then goes
   * live again: for events persisted while this node had no route for the
   * user (the reaper took the node for dead), which were forwarded to nobody.
   * A connection not live yet reads the log anyway.
   */
  catchUpMissed(): void {
    // Appends of the runs it follows were lost too: their snapshots are owed.
    for (const runId of this.extras?.runs?.followed() ?? []) this.oweSnapshot(runId);
    if (this.state !== 'live') return;
    this.state = 'replaying';
    this.shared.catchUp(this);
  }

  /**
   * Replay done: sends what was queued meanwhile (see LiveQueue.drain for
   * what is kept) and switches to live delivery, in one synchronous step so
   * no inbox entry can slip in between.
   */
  goLive(now: number): void {
    if (this.state === 'closed') return;
    const extras = this.extras;
    let pending: readonly QueuedEvent[] = NO_EVENTS;
    if (extras?.liveQueue !== undefined) {
      const queue = extras.liveQueue;
      pending = queue.drain(this.lastSentSeq);
      const dropped = queue.takeDroppedAppends();
      if (dropped !== undefined) this.oweSnapshotsFor(dropped);
      // A live connection queues nothing: an idle one keeps no queue.
      if (queue.isEmpty) extras.liveQueue = undefined;
    }
    this.state = 'live';
    for (let i = 0; i < pending.length; i++) {
      if (this.state !== 'live') {
        // A gap started another catch-up: keep the rest queued, in order.
        if (this.state === 'replaying') this.queue.push(pending[i] as QueuedEvent);
        continue;
      }
      const item = pending[i] as QueuedEvent;
      this.deliver(item.seq, item.frame, item.epoch, now, item.append);
    }
    this.flushOutbox(now);
  }

  /**
   * Sends a run's `snapshot` frame (after anything staged), taken as the
   * client's text of the run: `chunks` per stream, undefined when the run is
   * not retained. Appends held while it was read follow it if it does not
   * cover them (protocol.md section 9, "Snapshots"). False when the socket
   * is gone.
   */
  sendSnapshot(
    runId: string,
    frame: string,
    chunks: ReadonlyMap<string, number> | undefined,
    now: number,
  ): boolean {
    this.flushOutbox(now);
    if (!this.sendControl(frame, now)) return false;
    const { release, oweAgain } = this.runCursors().snapshotSent(runId, chunks);
    if (oweAgain) this.oweSnapshot(runId);
    if (release.length > 0) {
      const dirty: Connection[] = [];
      for (const held of release) this.offer(0, held.frame, '', now, dirty, held.append);
      this.flushOutbox(now);
    }
    return true;
  }

  /** A snapshot read of `runId` starts (a client's `sync`): its appends are held until it is sent. */
  beginSnapshotRead(runId: string): void {
    this.runCursors().startRead(runId);
  }

  /** The runs this connection owes a snapshot of; they count as being read from here on. */
  takeOwedSnapshots(): string[] {
    return this.extras?.runs?.takeOwed() ?? [];
  }

  /** serveOwedSnapshots ran out of owed runs. True when new ones came meanwhile (serve again). */
  finishServingSnapshots(): boolean {
    if (this.extras?.runs?.hasOwed === true && !this.isClosed) return true;
    if (this.extras !== undefined) this.extras.servingSnapshots = false;
    return false;
  }

  private runCursors(): RunCursors {
    return (this.more().runs ??= new RunCursors());
  }

  private oweSnapshot(runId: string): void {
    if (!this.runCursors().owe(runId)) return;
    const extras = this.more();
    if (extras.servingSnapshots) return;
    extras.servingSnapshots = true;
    this.shared.serveOwedSnapshots(this);
  }

  /** Appends dropped from the live queue: a snapshot is owed for those the client lacks. */
  private oweSnapshotsFor(dropped: readonly InboxAppend[]): void {
    const runs = this.runCursors();
    for (const append of dropped) {
      if (runs.admit(append) === Admission.Send) this.oweSnapshot(append.runId);
    }
  }

  /**
   * Applies a cumulative ack. False when it exceeds what this connection was
   * sent or resumed from: a protocol violation (4400).
   */
  ack(seq: number, now: number): boolean {
    if (seq > Math.max(this.helloLastSeq, this.lastSentSeq)) return false;
    // No tracker: nothing was sent on this connection, so nothing to confirm.
    const confirmed = this.ackTracker?.ack(seq, now, this.shared.observeAckMs) ?? 0;
    if (confirmed > 0) this.shared.metrics.acksConfirmed.inc(confirmed);
    return true;
  }

  /** Counts newly timed-out unacknowledged events (see AckTracker.countTimedOut). */
  countAckTimeouts(cutoff: number): number {
    return this.ackTracker?.countTimedOut(cutoff) ?? 0;
  }

  /** Send time of the oldest unacknowledged event; undefined when none. */
  oldestUnackedSentAt(): number | undefined {
    return this.ackTracker?.oldestUnackedSentAt();
  }

  /** Critical events sent and not acknowledged yet. */
  get pendingAcks(): number {
    return this.ackTracker?.pending ?? 0;
  }

  private trackSent(seq: number, now: number): void {
    this.ackTracker ??= new AckTracker(this.shared.limits.ackTrackCapacity);
    this.ackTracker.recordSent(seq, now);
  }

  /** Applies the upstream rate limit to one `publish` frame. */
  admitPublish(now: number): PublishAdmission {
    const extras = this.more();
    extras.publishRate ??= new PublishRateLimit(this.shared.limits.publish, now);
    return extras.publishRate.admit(now);
  }

  /**
   * Sends `reconnect` (after what is staged, so nothing is overtaken) and
   * leaves the socket open: a draining node keeps delivering until it
   * closes the socket at `afterMs`. False when the socket is gone.
   */
  announceReconnect(afterMs: number): boolean {
    if (this.state === 'closed') return false;
    this.flushOutbox(Date.now());
    // Flushing may have closed the socket (a dropped send).
    if (this.isClosed) return false;
    return this.sendControl(reconnectFrame(afterMs), Date.now());
  }

  /** Sends `reconnect` and closes with `code` (4503 by default) so the client resumes. */
  requestReconnect(afterMs: number, reason: string, code: number = CloseCode.Draining): void {
    if (this.announceReconnect(afterMs)) this.end(code, reason);
  }

  /** Closes with a close frame. The close handler then calls `markClosed`. */
  end(code: number, reason: string): void {
    if (this.state === 'closed') return;
    const ws = this.ws;
    if (ws === undefined) {
      this.markClosed();
      return;
    }
    ws.end(code, reason.length > MAX_REASON ? reason.slice(0, MAX_REASON) : reason);
    // uWS calls the close handler synchronously; make sure state is final either way.
    this.markClosed();
  }

  /** Called by the close handler: the socket must not be touched again. */
  markClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.ws = undefined;
    if (this.helloTimer !== undefined) clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    this.outbox = undefined;
    this.outboxBytes = 0;
    this.outboxCritical = 0;
    if (this.extras !== undefined) this.extras.liveQueue = undefined;
    this.releaseWriters();
  }

  /** Resolves once the send buffer is back under the soft limit, or the socket closed. */
  whenWritable(): Promise<void> {
    if (this.state === 'closed' || this.bufferedAmount() <= this.shared.limits.softBytes) {
      return Promise.resolve();
    }
    const extras = this.more();
    return new Promise((resolve) => (extras.writableWaiters ??= []).push(resolve));
  }

  /** uWS drain handler. */
  onDrain(): void {
    if (
      this.extras?.writableWaiters !== undefined &&
      this.bufferedAmount() <= this.shared.limits.softBytes
    ) {
      this.releaseWriters();
    }
  }

  private releaseWriters(): void {
    const extras = this.extras;
    const waiters = extras?.writableWaiters;
    if (extras === undefined || waiters === undefined) return;
    extras.writableWaiters = undefined;
    for (const resolve of waiters) resolve();
  }

  /** The delivery rules of a live connection (hot path: no parsing, no allocation). */
  private deliver(
    seq: number,
    frame: string,
    epoch: string,
    now: number,
    append?: InboxAppend,
  ): void {
    if (seq > 0) {
      if (epoch !== '' && epoch !== this.epoch) {
        // The user's history was created afresh (lost or expired): this
        // connection's seqs belong to a history that no longer exists. Make
        // the client resume; its hello then gets resumed:false and a replay.
        this.requestReconnect(0, 'history recreated');
        return;
      }
      // At-least-once forwarding may repeat an event: never send a seq twice.
      if (seq <= this.lastSentSeq) return;
      if (seq !== this.lastSentSeq + 1 && (this.extras?.catchUpFrom ?? -1) !== this.lastSentSeq) {
        // A gap: fill it from the log before sending this one.
        this.more().catchUpFrom = this.lastSentSeq;
        this.state = 'replaying';
        this.queue.push({ seq, frame, epoch });
        this.shared.catchUp(this);
        return;
      }
    }
    if (append !== undefined) {
      const runs = this.runCursors();
      const admission = runs.admit(append);
      if (admission === Admission.Hold) runs.hold(frame, append);
      if (admission !== Admission.Send) return;
    }
    const ws = this.ws;
    if (ws === undefined) return;
    let buffered = ws.getBufferedAmount() + this.outboxBytes;
    if (buffered > this.shared.limits.softBytes && this.outboxBytes > 0) {
      // A large batch, not a slow reader: send what is staged, then judge the
      // socket by what it could not take (a fast reader's socket takes it all).
      this.flushOutbox(now);
      if (this.state !== 'live') return;
      buffered = ws.getBufferedAmount();
    }
    if (buffered > this.shared.limits.hardBytes) {
      this.closeSlowConsumer();
      return;
    }
    if (seq === 0) {
      if (buffered > this.shared.limits.softBytes) {
        this.shared.metrics.nonCriticalDropped.inc();
        // A dropped append leaves a hole in the client's text: a snapshot is owed.
        if (append !== undefined) this.oweSnapshot(append.runId);
        return;
      }
      if (append !== undefined) this.extras?.runs?.sent(append);
    } else {
      this.lastSentSeq = seq;
      this.trackSent(seq, now);
      this.outboxCritical++;
    }
    (this.outbox ??= []).push(frame);
    this.outboxBytes += frame.length;
  }

  private closeSlowConsumer(): void {
    if (this.state === 'closed') return;
    this.shared.metrics.slowConsumerCloses.inc();
    this.end(CloseCode.SlowConsumer, 'slow consumer: send buffer over the hard limit');
  }
}
