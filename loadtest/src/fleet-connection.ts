import { DeliveryLedger } from './delivery-ledger.js';
import type { FleetClientOptions } from './fleet-client.js';

const MAX_RECONNECTS = 20;
const BACKOFF_FIRST_MS = 100;
const BACKOFF_CAP_MS = 2000;

/**
 * What every fleet connection shares, whatever its transport: the
 * DeliveryLedger (critical-event accounting), cumulative acks, counters, and
 * the resume after an unexpected close (full-jitter backoff, the next edge,
 * from the contiguous position). Subclasses open the transport and send acks.
 */
export abstract class FleetConnection {
  readonly ledger = new DeliveryLedger();
  /** Close codes of connections that closed without being asked to, by code. */
  readonly unexpectedCloses = new Map<number, number>();
  reconnects = 0;
  nonCritical = 0;
  /** Resumes answered resumed:false (history lost to retention). */
  resyncs = 0;

  protected epoch: string | undefined;
  protected lastAcked = 0;
  protected stopping = false;
  protected drainDelayMs: number | undefined;
  protected urlIndex = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(protected readonly options: FleetClientOptions) {}

  get userId(): string {
    return this.options.userId;
  }

  abstract get isOpen(): boolean;

  /** Opens the connection and resolves once the welcome arrived. */
  connect(): Promise<void> {
    return this.open(undefined);
  }

  /** Sends one cumulative ack when the contiguous position moved. */
  flushAck(): void {
    const seq = this.ledger.ackableSeq();
    if (seq <= this.lastAcked || !this.isOpen) return;
    this.lastAcked = seq;
    this.sendAck(seq);
  }

  /** Stops reconnecting and closes. */
  close(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    return this.closeTransport();
  }

  protected abstract open(lastSeq: number | undefined): Promise<void>;
  protected abstract sendAck(seq: number): void;
  protected abstract closeTransport(): Promise<void>;

  protected currentUrl(): string {
    return this.options.urls[this.urlIndex % this.options.urls.length] as string;
  }

  /** A new connection starts at `lastSeq` (undefined: live). */
  protected beginConnection(lastSeq: number | undefined): void {
    this.ledger.onNewSocket(lastSeq);
    // The resume position already tells the server this much.
    this.lastAcked = lastSeq ?? 0;
  }

  protected onWelcome(frame: Record<string, unknown>): void {
    if (typeof frame.epoch === 'string') this.epoch = frame.epoch;
    if (frame.resumed === false) this.resyncs++;
    this.ledger.onWelcome(typeof frame.latestSeq === 'number' ? frame.latestSeq : 0);
  }

  /** A welcomed connection ended without being asked to: count it, resume if allowed. */
  protected onUnexpectedClose(code: number, mayReconnect: boolean): void {
    this.unexpectedCloses.set(code, (this.unexpectedCloses.get(code) ?? 0) + 1);
    if ((this.options.reconnect ?? true) && mayReconnect) this.scheduleReconnect(0);
  }

  /** Hot path: one call per event frame. */
  protected onEvent(frame: Record<string, unknown>): void {
    const seq = frame.seq;
    if (frame.critical !== true || typeof seq !== 'number') {
      this.nonCritical++;
      return;
    }
    const data = frame.data as { user?: unknown; sentAt?: unknown } | undefined;
    if (data && typeof data.user === 'string' && data.user !== this.options.userId) {
      this.ledger.onForeign();
      return;
    }
    if (this.ledger.onCritical(seq) !== 'new') return;
    const now = Date.now();
    const fromIngest = typeof frame.ts === 'number' ? now - frame.ts : Number.NaN;
    const fromSend = data && typeof data.sentAt === 'number' ? now - data.sentAt : undefined;
    this.options.onFirstDelivery?.(fromIngest, fromSend);
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
}
