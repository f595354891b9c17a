import { shouldReconnect } from '@agentwire/protocol';
import WebSocket, { type RawData } from 'ws';
import { DeliveryLedger } from './delivery-ledger.js';
import { NonCriticalLedger } from './non-critical-ledger.js';
import { preciseNowMs } from './precise-clock.js';

export interface FleetClientOptions {
  /** Edge WebSocket URLs: the first is used first; each reconnect moves to the next (fail over to another node). */
  urls: readonly string[];
  userId: string;
  token: string;
  /** Source address of the socket (spreads ephemeral ports over 127.0.0.x). */
  localAddress?: string;
  /** Give up on one handshake + welcome after this long. @default 15000 */
  connectTimeoutMs?: number;
  /** Reconnect and resume (hello with lastSeq) after an unexpected close. @default true */
  reconnect?: boolean;
  /** Called for every event seen for the first time, critical or not (the latency sample). */
  onFirstDelivery?: (latencyFromIngestMs: number, latencyFromSendMs: number | undefined) => void;
}

const MAX_RECONNECTS = 20;
const BACKOFF_FIRST_MS = 100;
const BACKOFF_CAP_MS = 2000;

/**
 * One fleet connection: hello, welcome, critical-event accounting in a
 * DeliveryLedger, cumulative acks on demand, and resume after an unexpected
 * close. Raw `ws` rather than the client SDK on purpose: the SDK dedupes by
 * seq, which would hide the duplicates this tool exists to find.
 */
export class FleetClient {
  readonly ledger = new DeliveryLedger();
  /** Non-critical events and appends (fleet runs with `events` other than critical). */
  readonly nonCriticalLedger = new NonCriticalLedger();
  /** Close codes of sockets that closed without being asked to, by code. */
  readonly unexpectedCloses = new Map<number, number>();
  reconnects = 0;
  nonCritical = 0;
  /** True when the last resume answered resumed:false (history lost to retention). */
  resyncs = 0;
  /** Epoch ms of the latest welcome (0 before the first). */
  welcomedAtMs = 0;
  /** Epoch ms of the first critical event after the latest welcome (0 while none arrived). */
  firstEventAtMs = 0;
  /** Epoch ms of the latest close this client did not ask for (0 if none). */
  unexpectedCloseAtMs = 0;

  private socket: WebSocket | undefined;
  private epoch: string | undefined;
  private lastAcked = 0;
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private drainDelayMs: number | undefined;
  private urlIndex = 0;

  constructor(private readonly options: FleetClientOptions) {}

  get userId(): string {
    return this.options.userId;
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** The edge URL of the current (or last) socket. */
  get currentUrl(): string {
    return this.options.urls[this.urlIndex % this.options.urls.length] as string;
  }

  /**
   * Opens the socket and resolves once the welcome arrived. With `lastSeq`
   * the hello resumes from there (0: replay everything retained).
   */
  connect(lastSeq?: number): Promise<void> {
    return this.open(lastSeq);
  }

  /** Sends one cumulative ack when the contiguous position moved. */
  flushAck(): void {
    const seq = this.ledger.ackableSeq();
    if (seq <= this.lastAcked || !this.isOpen) return;
    this.lastAcked = seq;
    this.socket?.send(`{"type":"ack","seq":${seq}}`);
  }

  /** Closes with 1000 and waits (at most 3 s) for the close. */
  async close(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, 3000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.close(1000, 'loadtest done');
    });
  }

  private open(lastSeq: number | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const url = this.currentUrl;
      const socket = new WebSocket(url, {
        perMessageDeflate: false,
        handshakeTimeout: this.options.connectTimeoutMs ?? 15_000,
        ...(this.options.localAddress === undefined
          ? {}
          : { localAddress: this.options.localAddress }),
      });
      this.socket = socket;
      this.ledger.onNewSocket(lastSeq);
      // The hello's lastSeq already tells the server this much.
      this.lastAcked = lastSeq ?? 0;
      let welcomed = false;
      const timer = setTimeout(() => {
        if (!welcomed) {
          socket.terminate();
          reject(new Error('no welcome in time'));
        }
      }, this.options.connectTimeoutMs ?? 15_000);

      socket.on('open', () => {
        const hello: Record<string, unknown> = { type: 'hello', token: this.options.token };
        if (lastSeq !== undefined) {
          hello.lastSeq = lastSeq;
          if (this.epoch !== undefined) hello.epoch = this.epoch;
        }
        socket.send(JSON.stringify(hello));
      });
      socket.on('message', (data: RawData, isBinary: boolean) => {
        if (isBinary) return;
        const frame = parse(data);
        if (!frame) return;
        if (frame.type === 'event') {
          this.onEvent(frame);
        } else if (frame.type === 'snapshot') {
          this.nonCriticalLedger.onSnapshot(frame);
        } else if (frame.type === 'welcome') {
          welcomed = true;
          clearTimeout(timer);
          this.welcomedAtMs = Date.now();
          this.firstEventAtMs = 0;
          if (typeof frame.epoch === 'string') this.epoch = frame.epoch;
          if (frame.resumed === false) this.resyncs++;
          this.ledger.onWelcome(typeof frame.latestSeq === 'number' ? frame.latestSeq : 0);
          resolve();
        } else if (frame.type === 'reconnect' && typeof frame.afterMs === 'number') {
          // Draining node: it closes with 4503 next; come back after the spread delay.
          this.drainDelayMs = frame.afterMs;
        }
      });
      socket.on('error', (err) => {
        if (!welcomed) {
          clearTimeout(timer);
          reject(err);
        }
      });
      socket.on('close', (code: number) => {
        clearTimeout(timer);
        if (!welcomed) {
          reject(new Error(`closed with ${code} before welcome`));
          return;
        }
        if (this.stopping || socket !== this.socket) return;
        this.unexpectedCloseAtMs = Date.now();
        this.unexpectedCloses.set(code, (this.unexpectedCloses.get(code) ?? 0) + 1);
        if ((this.options.reconnect ?? true) && shouldReconnect(code)) this.scheduleReconnect(0);
      });
    });
  }

  private scheduleReconnect(attempt: number): void {
    if (this.stopping || attempt >= MAX_RECONNECTS) return;
    // Full jitter: thousands of clients of a dead node must not come back in lockstep.
    const cap = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** attempt);
    const delay = this.drainDelayMs ?? Math.random() * cap;
    this.drainDelayMs = undefined;
    this.reconnectTimer = setTimeout(() => {
      this.reconnects++;
      this.urlIndex++;
      this.open(this.ledger.contiguousSeq()).catch(() => this.scheduleReconnect(attempt + 1));
    }, delay);
  }

  /** Hot path: one call per event frame. */
  private onEvent(frame: Record<string, unknown>): void {
    const seq = frame.seq;
    const data = frame.data as { user?: unknown; sentAt?: unknown } | undefined;
    if (frame.critical !== true || typeof seq !== 'number') {
      this.nonCritical++;
      if (this.nonCriticalLedger.onEvent(frame, this.options.userId)) this.sample(frame, data);
      return;
    }
    if (this.firstEventAtMs === 0) this.firstEventAtMs = Date.now();
    if (data && typeof data.user === 'string' && data.user !== this.options.userId) {
      this.ledger.onForeign();
      return;
    }
    if (this.ledger.onCritical(seq) !== 'new') return;
    this.sample(frame, data);
  }

  private sample(frame: Record<string, unknown>, data: { sentAt?: unknown } | undefined): void {
    const now = Date.now();
    const fromIngest = typeof frame.ts === 'number' ? now - frame.ts : Number.NaN;
    const fromSend =
      data && typeof data.sentAt === 'number' ? preciseNowMs() - data.sentAt : undefined;
    this.options.onFirstDelivery?.(fromIngest, fromSend);
  }
}

function parse(data: RawData): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data.toString());
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
