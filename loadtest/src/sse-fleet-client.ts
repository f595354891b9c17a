import { Agent, request } from 'node:http';
import { TestSseClient, type SseReceived } from '@agentwire/testing';
import { DeliveryLedger } from './delivery-ledger.js';
import type { FleetClientOptions } from './fleet-client.js';
import { fleetReconnectDelay, recordFleetEvent } from './fleet-event.js';

/** Acks of the whole SSE fleet share a few kept-alive connections. */
const ackAgent = new Agent({ keepAlive: true, maxSockets: 32 });
const DRAINING = 4503;
const DROPPED = 1006;

/** `ws://host:port/v1/ws` -> `http://host:port` */
function httpBase(wsUrl: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url.origin;
}

/**
 * One fleet connection over SSE (GET /v1/sse, acks by POST /v1/ack): the
 * same accounting as FleetClient (a DeliveryLedger per connection, so a
 * duplicate or a gap is seen, not hidden) and the same resume: after an
 * unexpected end the stream is reopened on the next edge from the last
 * contiguous seq (`?lastSeq=&epoch=`).
 */
export class SseFleetClient {
  readonly ledger = new DeliveryLedger();
  readonly unexpectedCloses = new Map<number, number>();
  reconnects = 0;
  nonCritical = 0;
  resyncs = 0;

  private stream: TestSseClient | undefined;
  private open_ = false;
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
    return this.open_;
  }

  connect(): Promise<void> {
    return this.open(undefined);
  }

  flushAck(): void {
    const seq = this.ledger.ackableSeq();
    if (seq <= this.lastAcked || !this.open_) return;
    this.lastAcked = seq;
    const base = httpBase(this.currentUrl());
    const req = request(`${base}/v1/ack`, {
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

  private currentUrl(): string {
    return this.options.urls[this.urlIndex % this.options.urls.length] as string;
  }

  private async open(lastSeq: number | undefined): Promise<void> {
    const query = new URLSearchParams();
    if (lastSeq !== undefined) {
      query.set('lastSeq', String(lastSeq));
      if (this.epoch !== undefined) query.set('epoch', this.epoch);
    }
    this.ledger.onNewSocket(lastSeq);
    this.lastAcked = lastSeq ?? 0;
    let welcomed: () => void = () => undefined;
    const welcome = new Promise<void>((resolve) => (welcomed = resolve));
    let reconnectSeen = false;
    const onMessage = (message: SseReceived): void => {
      const frame = message.frame;
      if (message.event === 'event') {
        recordFleetEvent(this, frame, this.options.userId, this.options.onFirstDelivery);
      } else if (message.event === 'welcome') {
        if (typeof frame.epoch === 'string') this.epoch = frame.epoch;
        if (frame.resumed === false) this.resyncs++;
        this.ledger.onWelcome(typeof frame.latestSeq === 'number' ? frame.latestSeq : 0);
        welcomed();
      } else if (message.event === 'reconnect' && typeof frame.afterMs === 'number') {
        reconnectSeen = true;
        this.drainDelayMs = frame.afterMs;
      }
    };
    const timeoutMs = this.options.connectTimeoutMs ?? 15_000;
    const stream = await TestSseClient.open(`${httpBase(this.currentUrl())}/v1/sse?${query}`, {
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
    this.open_ = true;
    void stream.ended.then(() => {
      if (this.stream !== stream) return;
      this.open_ = false;
      if (this.stopping) return;
      const code = reconnectSeen ? DRAINING : DROPPED;
      this.unexpectedCloses.set(code, (this.unexpectedCloses.get(code) ?? 0) + 1);
      if (this.options.reconnect ?? true) this.scheduleReconnect(0);
    });
  }

  private scheduleReconnect(attempt: number): void {
    const delay = this.stopping ? undefined : fleetReconnectDelay(attempt, this.drainDelayMs);
    if (delay === undefined) return;
    this.drainDelayMs = undefined;
    this.reconnectTimer = setTimeout(() => {
      this.reconnects++;
      this.urlIndex++;
      this.open(this.ledger.contiguousSeq()).catch(() => this.scheduleReconnect(attempt + 1));
    }, delay);
  }
}
