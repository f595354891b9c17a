import { Agent, request } from 'node:http';
import { TestSseClient, type SseReceived } from '@agentwire/testing';
import { FleetConnection } from './fleet-connection.js';

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
 * One fleet connection over SSE (GET /v1/sse, acks by POST /v1/ack), with
 * the same accounting and resume as the WebSocket FleetClient: after an
 * unexpected end the stream is reopened on the next edge from the last
 * contiguous seq (`?lastSeq=&epoch=`).
 */
export class SseFleetClient extends FleetConnection {
  private stream: TestSseClient | undefined;
  private welcomed = false;

  get isOpen(): boolean {
    return this.welcomed && this.stream?.isEnded === false;
  }

  protected sendAck(seq: number): void {
    const req = request(`${httpBase(this.currentUrl())}/v1/ack`, {
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

  protected async closeTransport(): Promise<void> {
    await this.stream?.close();
  }

  protected async open(lastSeq: number | undefined): Promise<void> {
    const query = new URLSearchParams();
    if (lastSeq !== undefined) {
      query.set('lastSeq', String(lastSeq));
      if (this.epoch !== undefined) query.set('epoch', this.epoch);
    }
    this.beginConnection(lastSeq);
    this.welcomed = false;
    let welcomed: () => void = () => undefined;
    const welcome = new Promise<void>((resolve) => (welcomed = resolve));
    let reconnectSeen = false;
    const onMessage = (message: SseReceived): void => {
      const frame = message.frame;
      if (message.event === 'event') {
        this.onEvent(frame);
      } else if (message.event === 'welcome') {
        this.onWelcome(frame);
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
    this.welcomed = true;
    void stream.ended.then(() => {
      if (this.stopping || this.stream !== stream) return;
      this.onUnexpectedClose(reconnectSeen ? DRAINING : DROPPED, true);
    });
  }
}
