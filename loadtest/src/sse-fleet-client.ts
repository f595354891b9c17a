import { Agent, request } from 'node:http';
import { TestSseClient, type SseReceived } from '@agentwire/testing';
import { DeliveryLedger } from './delivery-ledger.js';
import type { FleetClientOptions } from './fleet-client.js';
import { NonCriticalLedger } from './non-critical-ledger.js';
import { preciseNowMs } from './precise-clock.js';

/** Acks of the whole SSE fleet share a few kept-alive connections. */
const ackAgent = new Agent({ keepAlive: true, maxSockets: 32 });
const DRAINING = 4503;
const DROPPED = 1006;
const MAX_RECONNECTS = 20;

/** `ws://host:port/v1/ws` -> `http://host:port` */
function httpBase(wsUrl: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url.origin;
}

/**
 * FleetClient's counterpart over SSE (GET /v1/sse, acks by POST /v1/ack),
 * with the same public surface (fleet-transport.ts) and the same rules: a
 * DeliveryLedger per connection (so a duplicate or a gap is seen, not
 * hidden), and after an unexpected end a resume on the next edge from the
 * contiguous position (`?lastSeq=&epoch=`), full-jitter backoff, or the
 * drain's `afterMs`. Kept apart from FleetClient (which other tools extend)
 * so the two can change independently.
 */
export class SseFleetClient {
  readonly ledger = new DeliveryLedger();
  readonly nonCriticalLedger = new NonCriticalLedger();
  readonly unexpectedCloses = new Map<number, number>();
  reconnects = 0;
  nonCritical = 0;
  resyncs = 0;

  private stream: TestSseClient | undefined;
  private welcomed = false;
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
    return this.welcomed && this.stream?.isEnded === false;
  }

  connect(): Promise<void> {
    return this.open(undefined);
  }

  flushAck(): void {
    const seq = this.ledger.ackableSeq();
    if (seq <= this.lastAcked || !this.isOpen) return;
    this.lastAcked = seq;
    const req = request(`${this.base()}/v1/ack`, {
      method: 'POST',
      agent: ackAgent,
      headers: {
        authorization: `Bearer ${this.options.token}`,
        'content-type': 'application/json',
      },
    });
    req.on('response', (res) => res.resume());
    req.on('error', () => undefined);
    req.end(`{"seq":${seq}}`);
  }

  async close(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    await this.stream?.close();
  }

  private base(): string {
    return httpBase(this.options.urls[this.urlIndex % this.options.urls.length] as string);
  }

  private async open(lastSeq: number | undefined): Promise<void> {
    const query = new URLSearchParams();
    if (lastSeq !== undefined) {
      query.set('lastSeq', String(lastSeq));
      if (this.epoch !== undefined) query.set('epoch', this.epoch);
    }
    this.ledger.onNewSocket(lastSeq);
    this.lastAcked = lastSeq ?? 0;
    this.welcomed = false;
    let onWelcome: () => void = () => undefined;
    const welcome = new Promise<void>((resolve) => (onWelcome = resolve));
    let reconnectSeen = false;
    const onMessage = ({ event, frame }: SseReceived): void => {
      if (event === 'event') {
        this.onEvent(frame);
      } else if (event === 'snapshot') {
        this.nonCriticalLedger.onSnapshot(frame);
      } else if (event === 'welcome') {
        if (typeof frame.epoch === 'string') this.epoch = frame.epoch;
        if (frame.resumed === false) this.resyncs++;
        this.ledger.onWelcome(typeof frame.latestSeq === 'number' ? frame.latestSeq : 0);
        onWelcome();
      } else if (event === 'reconnect' && typeof frame.afterMs === 'number') {
        reconnectSeen = true;
        this.drainDelayMs = frame.afterMs;
      }
    };
    const timeoutMs = this.options.connectTimeoutMs ?? 15_000;
    const stream = await TestSseClient.open(`${this.base()}/v1/sse?${query}`, {
      headers: { authorization: `Bearer ${this.options.token}` },
      timeoutMs,
      keepMessages: false,
      onMessage,
      ...(this.options.localAddress === undefined
        ? {}
        : { localAddress: this.options.localAddress }),
    });
    this.stream = stream;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      welcome,
      stream.ended.then(() => Promise.reject(new Error('stream ended before welcome'))),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no welcome in time')), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    this.welcomed = true;
    void stream.ended.then(() => {
      if (this.stopping || this.stream !== stream) return;
      const code = reconnectSeen ? DRAINING : DROPPED;
      this.unexpectedCloses.set(code, (this.unexpectedCloses.get(code) ?? 0) + 1);
      if (this.options.reconnect ?? true) this.scheduleReconnect(0);
    });
  }

  private scheduleReconnect(attempt: number): void {
    if (this.stopping || attempt >= MAX_RECONNECTS) return;
    const delay = this.drainDelayMs ?? Math.random() * Math.min(2000, 100 * 2 ** attempt);
    this.drainDelayMs = undefined;
    this.reconnectTimer = setTimeout(() => {
      this.reconnects++;
      this.urlIndex++;
      this.open(this.ledger.contiguousSeq()).catch(() => this.scheduleReconnect(attempt + 1));
    }, delay);
  }

  /** Hot path: one call per event message; FleetClient's accounting. */
  private onEvent(frame: Record<string, unknown>): void {
    const seq = frame.seq;
    const data = frame.data as { user?: unknown; sentAt?: unknown } | undefined;
    if (frame.critical !== true || typeof seq !== 'number') {
      this.nonCritical++;
      if (this.nonCriticalLedger.onEvent(frame, this.options.userId)) this.sample(frame, data);
    } else if (data && typeof data.user === 'string' && data.user !== this.options.userId) {
      this.ledger.onForeign();
    } else if (this.ledger.onCritical(seq) === 'new') {
      this.sample(frame, data);
    }
  }

  private sample(frame: Record<string, unknown>, data: { sentAt?: unknown } | undefined): void {
    const now = Date.now();
    const fromSend =
      data && typeof data.sentAt === 'number' ? preciseNowMs() - data.sentAt : undefined;
    this.options.onFirstDelivery?.(typeof frame.ts === 'number' ? now - frame.ts : NaN, fromSend);
  }
}
