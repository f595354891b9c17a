import {
  CloseCode,
  shouldReconnect,
  type AckFrame,
  type EventFrame,
  type HelloFrame,
  type JsonValue,
  type PublishFrame,
  type ServerFrame,
  type SyncFrame,
  type WelcomeFrame,
} from '@agentwire/protocol';
import { backoffDelay } from './backoff.js';
import { ClientState, isAllowedTransition, type StateChange } from './client-state.js';
import {
  AUTO_SSE_AFTER_FAILURES,
  resolveOptions,
  type ClientOptions,
  type ResolvedOptions,
} from './client-options.js';
import {
  ClientClosedError,
  HandlerError,
  OfflineQueueFullError,
  PayloadTooLargeError,
  ProtocolViolationError,
  PublishRejectedError,
  ServerError,
  StoreError,
  TokenError,
  UnauthorizedError,
} from './errors.js';
import type { Position } from './position.js';
import { PublishTracker, type PublishOptions, type PublishResult } from './publish-tracker.js';
import { classifyCritical, resumeFromWelcome } from './resume.js';
import { RunStore } from './run-store.js';
import type { RunView } from './run-view.js';
import { parseServerFrame } from './server-frame-parser.js';
import type { TimerHandle } from './timers.js';
import { TypedEmitter } from './typed-emitter.js';
import { WS_OPEN, type WebSocketLike } from './web-socket-like.js';

/** Payload of `resync`: the application must reload its state from its own source of truth. */
export interface ResyncInfo {
  welcome: WelcomeFrame;
  /** The position the client asked to resume from. */
  previous: Position;
  /** Where delivery continues; replayed events (if any) follow it. */
  position: Position;
}

/** Payload of `gap`: a critical event skipped ahead; the client reconnects to fill it. */
export interface GapInfo {
  expected: number;
  received: number;
}

/** Payload of `disconnect`: one socket went away. */
export interface DisconnectInfo {
  /** Close code, from the server or the one the client closed with. */
  code: number;
  reason: string;
  /** True when the client itself closed the socket (gap, dead connection, drain, `reconnect()`). */
  byClient: boolean;
  /** Delay before the next attempt, or undefined when the client stays closed. */
  reconnectInMs: number | undefined;
}

export interface ClientEvents {
  state: StateChange;
  /**
   * Every event, critical or not, in server order. Handlers may be async: they
   * run one at a time, and a critical event's position and ack advance only
   * after every handler for it resolved.
   */
  event: EventFrame;
  welcome: WelcomeFrame;
  resync: ResyncInfo;
  gap: GapInfo;
  disconnect: DisconnectInfo;
  /**
   * A run changed (an append, a status event, a snapshot): its new view,
   * exactly once per change, as frames arrive (before the frame's `event`).
   */
  run: RunView;
  error: Error;
}

/** One entry of the serial delivery queue. */
type Delivery =
  | { kind: 'event'; frame: EventFrame; epoch: string; generation: number }
  | { kind: 'reset'; position: Position; resync?: ResyncInfo; generation: number };

/** One WebSocket and what the client knows about it. */
interface Connection {
  readonly ws: WebSocketLike;
  readonly url: string;
  welcome: WelcomeFrame | undefined;
  /** Highest seq this connection may acknowledge: hello's lastSeq or the highest seq it was sent. */
  ackCeiling: number;
  lastAcked: number;
  lastFrameAt: number;
  /** Connect timeout before the welcome, dead-connection check after it. */
  watchdog: TimerHandle | undefined;
  drainTimer: TimerHandle | undefined;
}

/** Close code the client uses for the sockets it closes itself. */
const CLIENT_CLOSE = CloseCode.Normal;

/** After a welcome, how long to wait for its snapshots before asking about the runs they left out. */
const SNAPSHOTS_GRACE_MS = 250;

/**
 * agentwire client: connects, resumes from the last processed seq, delivers
 * each critical event exactly once and in order, acks after the application
 * processed it, reconnects with full-jitter backoff, and carries upstream
 * publishes across reconnects.
 */
export class AgentwireClient extends TypedEmitter<ClientEvents> {
  readonly #opts: ResolvedOptions;
  #state: ClientState = ClientState.Closed;
  #urlIndex: number;
  #token: string | undefined;
  /** Set after a 4001: the next 4001 before a welcome is final. */
  #authRetried = false;
  #conn: Connection | undefined;
  /** Bumped by connect() and disconnect() so stale async steps notice they lost. */
  #session = 0;
  #retryTimer: TimerHandle | undefined;
  #attempt = 0;
  /** Set by a `reconnect` frame: do not reconnect before this time. */
  #drainUntil: number | undefined;
  /** Highest position accepted into the delivery queue; what hello resumes from. */
  #received: Position | undefined;
  /** Highest position the application finished processing; stored and acked. */
  #processed: Position | undefined;
  #queue: Delivery[] = [];
  #pumping = false;
  /** Deliveries from before a disconnect() are dropped. */
  #generation = 0;
  #ackTimer: TimerHandle | undefined;
  readonly #publishes = new PublishTracker();
  #welcome: WelcomeFrame | undefined;
  #encoder: TextEncoder | undefined;
  /** Whether the next attempt uses SSE (transport 'sse', or 'auto' after repeated failures). */
  #useSse: boolean;
  /** WebSocket attempts in a row that ended before their welcome (transport 'auto'). */
  #wsFailures = 0;
  readonly #runs: RunStore;

  constructor(options: ClientOptions) {
    super();
    this.#opts = resolveOptions(options);
    this.#useSse = this.#opts.transport === 'sse';
    this.#urlIndex = Math.floor(this.#opts.random() * this.#opts.urls.length);
    this.#runs = new RunStore({
      maxRuns: this.#opts.maxRuns,
      endEvents: this.#opts.runEndEvents,
      maxTextLength: this.#opts.maxRunTextLength,
      now: () => this.#opts.timers.now(),
      requestSnapshot: (runId) => {
        const conn = this.#liveConnection();
        // Over SSE the transport turns it into GET /v1/runs/{runId}.
        const frame: SyncFrame = { type: 'sync', runId };
        return conn !== undefined && this.#sendText(conn, JSON.stringify(frame));
      },
      onChange: (view) => this.emit('run', view),
    });
  }

  get state(): ClientState {
    return this.#state;
  }

  /** The last position the application finished processing, or undefined before the first welcome. */
  get position(): Position | undefined {
    return this.#processed === undefined ? undefined : { ...this.#processed };
  }

  /** The welcome of the current connection (or the last one). */
  get welcome(): WelcomeFrame | undefined {
    return this.#welcome;
  }

  /** The transport of the current (or next) connection attempt. */
  get transport(): 'websocket' | 'sse' {
    return this.#useSse ? 'sse' : 'websocket';
  }

  /** Number of publishes that have no answer yet. */
  get pendingPublishes(): number {
    return this.#publishes.size;
  }

  /** The run's current view, or undefined when the client keeps none. */
  getRun(runId: string): RunView | undefined {
    return this.#runs.get(runId);
  }

  /** The runs the client keeps, in the order it first saw them; the same array until one changes. */
  runs(): readonly RunView[] {
    return this.#runs.list();
  }

  /**
   * Asks the server for a snapshot of the run (the client does this by itself
   * on a gap in a stream); the answer arrives as a `run` event. While not
   * connected it is sent after the next welcome.
   */
  sync(runId: string): void {
    this.#runs.sync(runId);
  }

  /** Starts connecting. Does nothing unless the client is closed. */
  connect(): void {
    if (this.#state !== ClientState.Closed) return;
    const session = ++this.#session;
    this.#attempt = 0;
    this.#authRetried = false;
    this.#drainUntil = undefined;
    this.#token = undefined;
    this.#setState(ClientState.Connecting);
    void this.#loadPosition(session).then(() => {
      if (session === this.#session) void this.#open(session);
    });
  }

  /** Closes the connection and stops reconnecting; unsettled publishes are rejected. */
  disconnect(): void {
    if (this.#state === ClientState.Closed) return;
    this.#flushAck();
    this.#shutdown(new ClientClosedError('disconnect() was called'));
    this.#setState(ClientState.Closed);
  }

  /**
   * Drops the current socket and reconnects at once, resuming from the
   * position (what a network blip does). Useful after a network change.
   */
  reconnect(): void {
    const conn = this.#conn;
    if (conn !== undefined) {
      this.#attempt = 0;
      this.#drop(conn, 'reconnect requested');
    } else if (this.#retryTimer !== undefined) {
      this.#opts.timers.clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      void this.#open(this.#session);
    }
  }

  /**
   * Sends an upstream message. Resolves when the server answered `accepted`
   * (the message is durable), rejects on an `error` for its id. While not
   * connected it waits in a bounded queue; unsettled publishes are re-sent
   * with the same id after each reconnect (the server appends an id once).
   */
  publish(data: JsonValue, options: PublishOptions = {}): Promise<PublishResult> {
    if (this.#state === ClientState.Closed) {
      return Promise.reject(new ClientClosedError('publish() on a closed client; call connect()'));
    }
    const id = options.id ?? this.#opts.generateId();
    const existing = this.#publishes.existing(id);
    if (existing !== undefined) return existing;

    const frame: PublishFrame = { type: 'publish', id, data };
    if (options.threadId !== undefined) frame.threadId = options.threadId;
    const text = JSON.stringify(frame);
    const maxPayload = this.#welcome?.maxPayload;
    if (maxPayload !== undefined && maxPayload > 0) {
      this.#encoder ??= new TextEncoder();
      const bytes = this.#encoder.encode(text).length;
      if (bytes > maxPayload) return Promise.reject(new PayloadTooLargeError(bytes, maxPayload));
    }
    const conn = this.#liveConnection();
    if (conn === undefined && this.#publishes.size >= this.#opts.maxOfflineQueue) {
      return Promise.reject(new OfflineQueueFullError(this.#opts.maxOfflineQueue));
    }
    const promise = this.#publishes.add(id, text);
    if (conn !== undefined) this.#sendText(conn, text);
    return promise;
  }

  protected override onListenerError(error: unknown, event: string): void {
    // A throwing `error` listener must not loop back into `error`.
    if (event !== 'error') this.emit('error', new HandlerError(event, undefined, error));
  }

  // ---- state ----

  #setState(newState: ClientState): void {
    const oldState = this.#state;
    if (oldState === newState) return;
    if (!isAllowedTransition(oldState, newState)) {
      throw new Error(`agentwire client: illegal state change ${oldState} -> ${newState}`);
    }
    this.#state = newState;
    this.emit('state', { oldState, newState });
  }

  // ---- connecting ----

  async #loadPosition(session: number): Promise<void> {
    // The in-memory position is at least as new as the stored one.
    if (this.#processed !== undefined) {
      this.#received = { ...this.#processed };
      return;
    }
    try {
      const stored = await this.#opts.store.load();
      if (session !== this.#session || stored === undefined) return;
      this.#processed = { ...stored };
      this.#received = { ...stored };
    } catch (error) {
      this.emit('error', new StoreError('load', error));
    }
  }

  async #open(session: number): Promise<void> {
    this.#retryTimer = undefined;
    if (this.#token === undefined) {
      try {
        const token = await this.#opts.getToken();
        if (session !== this.#session) return;
        this.#token = token;
      } catch (error) {
        if (session !== this.#session) return;
        this.emit('error', new TokenError(error));
        this.#scheduleRetry(0, 'getToken() failed', true);
        return;
      }
    }
    const urls = this.#opts.urls;
    const url = urls[this.#urlIndex % urls.length] as string;
    this.#urlIndex = (this.#urlIndex + 1) % urls.length;

    let ws: WebSocketLike;
    try {
      const WebSocketImpl = this.#opts.WebSocket;
      ws =
        this.#useSse || WebSocketImpl === undefined
          ? this.#opts.createSse(url)
          : new WebSocketImpl(url);
    } catch (error) {
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
      this.#scheduleRetry(0, 'WebSocket constructor failed', true);
      return;
    }
    const { timers } = this.#opts;
    const conn: Connection = {
      ws,
      url,
      welcome: undefined,
      ackCeiling: 0,
      lastAcked: 0,
      lastFrameAt: timers.now(),
      watchdog: undefined,
      drainTimer: undefined,
    };
    this.#conn = conn;
    conn.watchdog = timers.setTimeout(() => {
      if (this.#conn === conn) this.#drop(conn, 'connect timeout');
    }, this.#opts.connectTimeoutMs);

    ws.onopen = () => {
      if (this.#conn === conn) this.#sendHello(conn);
    };
    ws.onmessage = (event: { data: unknown }) => {
      if (this.#conn === conn) this.#onMessage(conn, event.data);
    };
    ws.onclose = (event: { code: number; reason: string }) => {
      if (this.#conn === conn) this.#onClose(conn, event.code, event.reason);
    };
    // A close event always follows an error; that is where the client reacts.
    ws.onerror = () => undefined;
  }

  #sendHello(conn: Connection): void {
    const hello: HelloFrame = { type: 'hello' };
    // An empty token means the socket authenticated on upgrade (Authorization header).
    if (this.#token !== undefined && this.#token !== '') hello.token = this.#token;
    const from = this.#received;
    if (from !== undefined) {
      hello.lastSeq = from.lastSeq;
      if (from.epoch !== undefined) hello.epoch = from.epoch;
      conn.ackCeiling = from.lastSeq;
      conn.lastAcked = from.lastSeq;
    }
    this.#sendText(conn, JSON.stringify(hello));
  }

  // ---- receiving ----

  /** Hot path: every server frame passes here. */
  #onMessage(conn: Connection, data: unknown): void {
    conn.lastFrameAt = this.#opts.timers.now();
    if (typeof data !== 'string') return; // The protocol is text frames only.
    const parsed = parseServerFrame(data);
    if (parsed.kind === 'unknown') return;
    if (parsed.kind === 'malformed') {
      this.emit(
        'error',
        new ServerError('bad_frame', `malformed frame from server: ${parsed.reason}`),
      );
      return;
    }
    this.#onFrame(conn, parsed.frame);
  }

  #onFrame(conn: Connection, frame: ServerFrame): void {
    switch (frame.type) {
      case 'welcome':
        this.#onWelcome(conn, frame);
        return;
      case 'event':
        this.#onEvent(conn, frame);
        return;
      case 'snapshot':
        if (conn.welcome !== undefined) this.#runs.applySnapshot(frame);
        return;
      case 'accepted':
        this.#publishes.resolve(frame.id);
        return;
      case 'error':
        if (
          frame.id === undefined ||
          !this.#publishes.reject(
            frame.id,
            new PublishRejectedError(frame.id, frame.code, frame.message ?? ''),
          )
        ) {
          this.emit('error', new ServerError(frame.code, frame.message ?? ''));
        }
        return;
      case 'reconnect':
        this.#onReconnectFrame(conn, frame.afterMs);
        return;
      case 'heartbeat':
        // lastFrameAt already moved; a heartbeat also ends the snapshots after a welcome.
        if (conn.welcome !== undefined) this.#runs.snapshotsDone();
        return;
    }
  }

  #onWelcome(conn: Connection, welcome: WelcomeFrame): void {
    if (conn.welcome !== undefined) return; // Exactly one per connection; ignore repeats.
    conn.welcome = welcome;
    this.#runs.connected(welcome.epoch, welcome.latestSeq);
    const sent = this.#received;
    const { position, resync } = resumeFromWelcome(sent, welcome);
    this.#received = position;
    this.#attempt = 0;
    this.#authRetried = false;
    this.#drainUntil = undefined;
    this.#welcome = welcome;
    this.#wsFailures = 0;
    this.#armHeartbeat(conn);

    // Listeners may call disconnect() or reconnect(); stop as soon as this
    // socket is no longer the current one.
    this.#setState(ClientState.Connected);
    if (this.#conn !== conn) return;
    this.emit('welcome', welcome);
    if (this.#conn !== conn) return;
    // The snapshots after a welcome come at once, and the next event or
    // heartbeat says they are over. When none comes (the run ended while the
    // connection was down, a quiet user), a sync whose answer was lost with
    // the old connection is asked for again after this grace, not at the
    // next heartbeat (seen in Chromium over SSE: a page stuck `syncing`).
    this.#opts.timers.setTimeout(() => {
      if (this.#conn === conn) this.#runs.snapshotsDone();
    }, SNAPSHOTS_GRACE_MS);
    if (sent === undefined || resync || sent.epoch !== position.epoch) {
      // Through the queue, so events from an earlier connection still waiting
      // for their handler are delivered first and the position moves in order.
      this.#enqueue({
        kind: 'reset',
        position,
        resync: resync && sent !== undefined ? { welcome, previous: sent, position } : undefined,
        generation: this.#generation,
      });
      if (this.#conn !== conn) return;
    }
    for (const text of this.#publishes.texts()) this.#sendText(conn, text);
    this.#scheduleAck();
  }

  #onEvent(conn: Connection, frame: EventFrame): void {
    const welcome = conn.welcome;
    const received = this.#received;
    if (welcome === undefined || received === undefined) return; // Events only follow a welcome.
    if (!frame.critical) {
      this.#runs.applyEvent(frame);
      if (this.#conn !== conn) return; // A `run` listener disconnected.
      this.#enqueue({ kind: 'event', frame, epoch: welcome.epoch, generation: this.#generation });
      return;
    }
    const seq = frame.seq as number; // The parser checked critical events carry one.
    if (seq > conn.ackCeiling) conn.ackCeiling = seq;
    const verdict = classifyCritical(received.lastSeq, seq);
    if (verdict === 'duplicate') return;
    if (verdict === 'gap') {
      // Never deliver past a hole: reconnect and let the resume replay it.
      this.emit('gap', { expected: received.lastSeq + 1, received: seq });
      if (this.#conn !== conn) return;
      this.#attempt = 0;
      this.#drop(conn, `gap: expected seq ${received.lastSeq + 1}, got ${seq}`);
      return;
    }
    this.#runs.applyEvent(frame);
    // A `run` listener dropped the connection: the resume replays this event.
    if (this.#conn !== conn) return;
    this.#received = { lastSeq: seq, epoch: welcome.epoch };
    this.#enqueue({ kind: 'event', frame, epoch: welcome.epoch, generation: this.#generation });
  }

  #onReconnectFrame(conn: Connection, afterMs: number): void {
    const { timers } = this.#opts;
    this.#drainUntil = timers.now() + afterMs;
    if (conn.drainTimer !== undefined) timers.clearTimeout(conn.drainTimer);
    // Keep receiving on this socket until the delay the node chose, then move.
    conn.drainTimer = timers.setTimeout(() => {
      if (this.#conn === conn) this.#drop(conn, 'node draining');
    }, afterMs);
  }

  // ---- delivery ----

  #enqueue(delivery: Delivery): void {
    this.#queue.push(delivery);
    if (!this.#pumping) void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
        if (next.generation !== this.#generation) continue;
        await this.#deliver(next);
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #deliver(delivery: Delivery): Promise<void> {
    if (delivery.kind === 'reset') {
      await this.#advance(delivery.position, false);
      if (delivery.resync !== undefined) {
        const error = await this.emitSerial('resync', delivery.resync);
        if (error !== undefined) this.emit('error', new HandlerError('resync', undefined, error));
      }
      return;
    }
    const { frame, epoch } = delivery;
    const processed = this.#processed;
    if (frame.critical) {
      // Second line of dedupe: a seq may sit in the queue from an old
      // connection while the new one replays it again.
      const seq = frame.seq as number;
      if (processed !== undefined && processed.epoch === epoch && seq <= processed.lastSeq) return;
    }
    const error = await this.emitSerial('event', frame);
    if (error !== undefined) this.emit('error', new HandlerError(frame.name, frame.seq, error));
    // The handler ran, so the event counts as processed even if disconnect()
    // came meanwhile: replaying it later would deliver it twice.
    if (frame.critical) {
      await this.#advance({ lastSeq: frame.seq as number, epoch }, true);
    }
  }

  async #advance(position: Position, ack: boolean): Promise<void> {
    this.#processed = position;
    try {
      await this.#opts.store.save({ ...position });
    } catch (error) {
      this.emit('error', new StoreError('save', error));
    }
    if (ack) this.#scheduleAck();
  }

  // ---- acks ----

  #scheduleAck(): void {
    if (this.#opts.ackIntervalMs === 0) {
      this.#flushAck();
      return;
    }
    if (this.#ackTimer !== undefined) return;
    this.#ackTimer = this.#opts.timers.setTimeout(() => {
      this.#ackTimer = undefined;
      this.#flushAck();
    }, this.#opts.ackIntervalMs);
  }

  /** Sends one cumulative ack for everything processed that this connection may acknowledge. */
  #flushAck(): void {
    if (this.#ackTimer !== undefined) {
      this.#opts.timers.clearTimeout(this.#ackTimer);
      this.#ackTimer = undefined;
    }
    const conn = this.#liveConnection();
    const processed = this.#processed;
    if (conn === undefined || processed === undefined) return;
    if (processed.epoch !== conn.welcome?.epoch) return;
    const seq = Math.min(processed.lastSeq, conn.ackCeiling);
    if (seq <= conn.lastAcked) return;
    const ack: AckFrame = { type: 'ack', seq };
    if (this.#sendText(conn, JSON.stringify(ack))) conn.lastAcked = seq;
  }

  // ---- liveness ----

  #armHeartbeat(conn: Connection): void {
    const { timers } = this.#opts;
    if (conn.watchdog !== undefined) timers.clearTimeout(conn.watchdog);
    conn.watchdog = undefined;
    const heartbeatMs = conn.welcome?.heartbeatMs ?? 0;
    if (heartbeatMs <= 0) return;
    const limit = 2 * heartbeatMs;
    // One timer per connection, re-armed for the remaining time instead of
    // being reset on every frame.
    const check = (): void => {
      if (this.#conn !== conn) return;
      const idle = timers.now() - conn.lastFrameAt;
      if (idle >= limit) {
        this.#drop(conn, `no frame for ${idle} ms (heartbeat ${heartbeatMs} ms)`);
      } else {
        conn.watchdog = timers.setTimeout(check, limit - idle);
      }
    };
    conn.watchdog = timers.setTimeout(check, limit);
  }

  // ---- losing a connection ----

  /** The client gives up on a socket itself; it reconnects like after any loss. */
  #drop(conn: Connection, reason: string): void {
    this.#noteFailure(conn);
    this.#release(conn);
    try {
      conn.ws.close(CLIENT_CLOSE, reason.slice(0, 120));
    } catch {
      // Closing a socket that never opened may throw; it is gone either way.
    }
    this.#afterLoss(CLIENT_CLOSE, reason, true);
  }

  #onClose(conn: Connection, code: number, reason: string): void {
    this.#noteFailure(conn);
    this.#release(conn);
    this.#afterLoss(code, reason, false);
  }

  /** transport 'auto': a WebSocket lost before its welcome counts toward the switch to SSE. */
  #noteFailure(conn: Connection): void {
    if (this.#opts.transport !== 'auto' || this.#useSse || conn.welcome !== undefined) return;
    if (++this.#wsFailures >= AUTO_SSE_AFTER_FAILURES) this.#useSse = true;
  }

  /** Forgets a socket: no frame or close from it is looked at any more. */
  #release(conn: Connection): void {
    const { timers } = this.#opts;
    if (conn.watchdog !== undefined) timers.clearTimeout(conn.watchdog);
    if (conn.drainTimer !== undefined) timers.clearTimeout(conn.drainTimer);
    conn.watchdog = undefined;
    conn.drainTimer = undefined;
    conn.ws.onopen = null;
    conn.ws.onmessage = null;
    conn.ws.onclose = null;
    // Not null: `ws` emits 'error' when a connecting socket is closed, and an
    // EventEmitter error without a listener would throw in Node.
    conn.ws.onerror = () => undefined;
    if (this.#conn === conn) this.#conn = undefined;
  }

  #afterLoss(code: number, reason: string, byClient: boolean): void {
    if (this.#state === ClientState.Closed) return;
    if (code === CloseCode.Unauthorized) {
      if (this.#authRetried) {
        this.#fail(new UnauthorizedError(reason), code, reason);
        return;
      }
      // The token was refused: fetch a fresh one and retry once right away.
      this.#authRetried = true;
      this.#token = undefined;
      this.#scheduleRetry(code, reason, byClient, 0);
      return;
    }
    if (code === CloseCode.ProtocolError || !shouldReconnect(code)) {
      this.#fail(new ProtocolViolationError(reason), code, reason);
      return;
    }
    this.#scheduleRetry(code, reason, byClient);
  }

  #scheduleRetry(code: number, reason: string, byClient: boolean, delayMs?: number): void {
    const session = this.#session;
    if (this.#state === ClientState.Connected) {
      this.#setState(ClientState.Reconnecting);
      if (session !== this.#session) return; // A state listener called disconnect().
    }
    const { timers } = this.#opts;
    let delay: number;
    if (delayMs !== undefined) {
      delay = delayMs;
    } else if (this.#drainUntil !== undefined) {
      delay = Math.max(0, this.#drainUntil - timers.now());
      this.#drainUntil = undefined;
    } else {
      delay = backoffDelay(
        this.#attempt++,
        this.#opts.minDelayMs,
        this.#opts.maxDelayMs,
        this.#opts.random,
      );
    }
    if (this.#retryTimer !== undefined) timers.clearTimeout(this.#retryTimer);
    this.#retryTimer = timers.setTimeout(() => {
      if (session === this.#session) void this.#open(session);
    }, delay);
    // After the timer is set, so a listener's disconnect() clears it.
    this.emit('disconnect', { code, reason, byClient, reconnectInMs: delay });
  }

  /** A close that must not be retried blindly: stop, report, reject what waits. */
  #fail(error: Error, code: number, reason: string): void {
    this.#shutdown(error);
    this.#setState(ClientState.Closed);
    this.emit('disconnect', { code, reason, byClient: false, reconnectInMs: undefined });
    this.emit('error', error);
  }

  /** Stops every timer and socket; keeps the processed position for a later connect(). */
  #shutdown(reason: Error): void {
    this.#session++;
    this.#generation++;
    const { timers } = this.#opts;
    const conn = this.#conn;
    if (conn !== undefined) {
      this.#release(conn);
      try {
        conn.ws.close(CLIENT_CLOSE, 'client closed');
      } catch {
        // Already closing or never opened.
      }
    }
    for (const timer of [this.#retryTimer, this.#ackTimer]) {
      if (timer !== undefined) timers.clearTimeout(timer);
    }
    this.#retryTimer = undefined;
    this.#ackTimer = undefined;
    this.#drainUntil = undefined;
    // Undelivered events are dropped; the next connect() resumes from what was processed.
    this.#queue = [];
    this.#received = this.#processed === undefined ? undefined : { ...this.#processed };
    this.#publishes.rejectAll(reason);
  }

  // ---- sending ----

  #liveConnection(): Connection | undefined {
    const conn = this.#conn;
    return conn !== undefined && conn.welcome !== undefined && this.#state === ClientState.Connected
      ? conn
      : undefined;
  }

  #sendText(conn: Connection, text: string): boolean {
    if (conn.ws.readyState !== WS_OPEN) return false;
    try {
      conn.ws.send(text);
      return true;
    } catch {
      return false; // The close event follows and triggers the reconnect.
    }
  }
}
