import { shouldReconnect } from '@agentwire/protocol';
import WebSocket, { type RawData } from 'ws';
import { FleetConnection } from './fleet-connection.js';

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
  /** Called for every critical event seen for the first time (the latency sample). */
  onFirstDelivery?: (latencyFromIngestMs: number, latencyFromSendMs: number | undefined) => void;
}

/**
 * One fleet connection: hello, welcome, critical-event accounting in a
 * DeliveryLedger, cumulative acks on demand, and resume after an unexpected
 * close. Raw `ws` rather than the client SDK on purpose: the SDK dedupes by
 * seq, which would hide the duplicates this tool exists to find.
 */
export class FleetClient extends FleetConnection {
  private socket: WebSocket | undefined;

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  protected sendAck(seq: number): void {
    this.socket?.send(`{"type":"ack","seq":${seq}}`);
  }

  /** Closes with 1000 and waits (at most 3 s) for the close. */
  protected async closeTransport(): Promise<void> {
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

  protected open(lastSeq: number | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const url = this.currentUrl();
      const socket = new WebSocket(url, {
        perMessageDeflate: false,
        handshakeTimeout: this.options.connectTimeoutMs ?? 15_000,
        ...(this.options.localAddress === undefined
          ? {}
          : { localAddress: this.options.localAddress }),
      });
      this.socket = socket;
      this.beginConnection(lastSeq);
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
        } else if (frame.type === 'welcome') {
          welcomed = true;
          clearTimeout(timer);
          this.onWelcome(frame);
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
        this.onUnexpectedClose(code, shouldReconnect(code));
      });
    });
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
