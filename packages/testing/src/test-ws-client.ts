import WebSocket, { type RawData } from 'ws';
import type { ClientRequest, IncomingMessage } from 'node:http';

/** One parsed server frame. Text that is not a JSON object is kept as `{ type: 'invalid-json', raw }`. */
export type WsFrame = Record<string, unknown>;

export interface WsCloseInfo {
  code: number;
  reason: string;
}

export interface WsConnectOptions {
  /** Extra upgrade request headers (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** The Origin header. */
  origin?: string;
  /** Offer permessage-deflate. Off by default so send-buffer sizes are predictable. @default false */
  perMessageDeflate?: boolean;
  /** Give up on the handshake after this long. @default 10000 */
  handshakeTimeoutMs?: number;
}

/** The server refused the WebSocket upgrade with an HTTP response. */
export class WsUpgradeError extends Error {
  override readonly name = 'WsUpgradeError';
  constructor(
    readonly statusCode: number,
    readonly body: string,
  ) {
    super(`WebSocket upgrade refused with HTTP ${statusCode}${body ? `: ${body}` : ''}`);
  }
}

type FramePredicate = ((frame: WsFrame) => boolean) | string;

interface Waiter {
  /** Returns true once the waiter is satisfied (it has resolved itself). */
  onFrame(frame: WsFrame): boolean;
  fail(error: Error): void;
}

const UPGRADE_BODY_LIMIT = 4096;
const CLOSE_HANDSHAKE_MS = 3000;

/**
 * A WebSocket client for tests: records every frame, waits for frames by
 * predicate, and can stop reading to play a slow consumer.
 */
export class TestWsClient {
  /** Every text message received, parsed, in arrival order. */
  readonly frames: WsFrame[] = [];
  /** Binary messages (the protocol has none; a test can assert that). */
  readonly binaryMessages: Buffer[] = [];
  /** Resolves when the socket has closed, however that happened. */
  readonly closed: Promise<WsCloseInfo>;

  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<(frame: WsFrame) => void>();
  private closeInfo: WsCloseInfo | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    this.closed = new Promise((resolve) => {
      socket.once('close', (code: number, reason: Buffer) => {
        this.closeInfo = { code, reason: reason.toString() };
        const error = new Error(
          `socket closed (${code} ${this.closeInfo.reason})${this.recentFramesText()}`,
        );
        for (const waiter of this.waiters) waiter.fail(error);
        this.waiters.clear();
        resolve(this.closeInfo);
      });
    });
  }

  /** Opens a connection; rejects with a WsUpgradeError (`statusCode`) when the server answers the upgrade with HTTP. */
  static connect(url: string, options: WsConnectOptions = {}): Promise<TestWsClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, {
        headers: options.headers,
        origin: options.origin,
        perMessageDeflate: options.perMessageDeflate ?? false,
        handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
      });
      const client = new TestWsClient(socket);
      // Errors after open surface as 'close'; before open they reject connect().
      socket.on('error', (err) => reject(err));
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (req: ClientRequest, res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < UPGRADE_BODY_LIMIT) chunks.push(chunk);
          size += chunk.length;
        });
        const refuse = (): void => {
          const body = Buffer.concat(chunks).toString().slice(0, UPGRADE_BODY_LIMIT);
          reject(new WsUpgradeError(res.statusCode ?? 0, body));
          req.destroy();
        };
        res.once('end', refuse);
        res.once('error', refuse);
      });
    });
  }

  /** Sends a frame as JSON text. */
  send(frame: object): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** Sends raw data, as a text message unless `binary`. */
  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  /**
   * Calls `listener` with every frame from now on, as it arrives (after it is
   * recorded): for a test client that answers frames, as a `sync` on a gap.
   * Returns the unsubscribe function.
   */
  onFrame(listener: (frame: WsFrame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Frames with type 'event', in arrival order. */
  events(): WsFrame[] {
    return this.frames.filter((frame) => frame.type === 'event');
  }

  /** Close code and reason once closed. */
  get closeState(): WsCloseInfo | undefined {
    return this.closeInfo;
  }

  /**
   * The first frame (already received or arriving later) that matches; a string
   * matches on `type`. Rejects on timeout or when the socket closes first.
   */
  waitFor(predicate: FramePredicate, timeoutMs = 5000): Promise<WsFrame> {
    const matches =
      typeof predicate === 'string' ? (frame: WsFrame) => frame.type === predicate : predicate;
    const found = this.frames.find(matches);
    if (found) return Promise.resolve(found);
    return this.wait(timeoutMs, `frame matching ${describe(predicate)}`, (resolve) => (frame) => {
      if (!matches(frame)) return false;
      resolve(frame);
      return true;
    });
  }

  /** Resolves with all event frames once at least `count` have arrived. */
  waitForEvents(count: number, timeoutMs = 5000): Promise<WsFrame[]> {
    if (this.events().length >= count) return Promise.resolve(this.events());
    let seen = this.events().length;
    return this.wait(timeoutMs, `${count} events`, (resolve) => (frame) => {
      if (frame.type === 'event') seen++;
      if (seen < count) return false;
      resolve(this.events());
      return true;
    });
  }

  /** Sends `hello` (with `token` when given, plus `extra` fields) and resolves with the welcome frame. */
  async hello(
    token?: string,
    extra: Record<string, unknown> = {},
    timeoutMs = 5000,
  ): Promise<WsFrame> {
    this.send({ type: 'hello', ...(token === undefined ? {} : { token }), ...extra });
    return this.waitFor('welcome', timeoutMs);
  }

  /** Starts the close handshake; terminates if the server does not finish it in 3 s. */
  async close(code?: number, reason?: string): Promise<WsCloseInfo> {
    if (this.closeInfo) return this.closeInfo;
    this.socket.close(code, reason);
    const timer = setTimeout(() => this.socket.terminate(), CLOSE_HANDSHAKE_MS);
    try {
      return await this.closed;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the TCP connection without a close frame (a network failure, as the server sees it). */
  terminate(): Promise<WsCloseInfo> {
    this.socket.terminate();
    return this.closed;
  }

  /** Stops reading from the socket, so the server's send buffer fills (a slow consumer). */
  pause(): void {
    this.socket.pause();
  }

  /** Reads from the socket again. */
  resume(): void {
    this.socket.resume();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const buffer = Array.isArray(data)
      ? Buffer.concat(data)
      : data instanceof ArrayBuffer
        ? Buffer.from(data)
        : data;
    if (isBinary) {
      this.binaryMessages.push(buffer);
      return;
    }
    const frame = parseFrame(buffer.toString());
    this.frames.push(frame);
    for (const listener of this.listeners) listener(frame);
    for (const waiter of this.waiters) {
      if (waiter.onFrame(frame)) this.waiters.delete(waiter);
    }
  }

  private wait<T>(
    timeoutMs: number,
    what: string,
    makeOnFrame: (resolve: (value: T) => void) => (frame: WsFrame) => boolean,
  ): Promise<T> {
    if (this.closeInfo) {
      const { code, reason } = this.closeInfo;
      return Promise.reject(
        new Error(`waiting for ${what}: socket already closed (${code} ${reason})`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        onFrame: makeOnFrame((value) => {
          clearTimeout(timer);
          resolve(value);
        }),
        fail: (error) => {
          clearTimeout(timer);
          reject(new Error(`waiting for ${what}: ${error.message}`));
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}${this.recentFramesText()}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private recentFramesText(): string {
    if (this.frames.length === 0) return '; no frames received';
    const recent = this.frames.slice(-5).map((frame) => JSON.stringify(frame).slice(0, 300));
    return `; last ${recent.length} of ${this.frames.length} frames:\n${recent.join('\n')}`;
  }
}

function parseFrame(text: string): WsFrame {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as WsFrame;
  } catch {
    // Fall through: kept as invalid-json below.
  }
  return { type: 'invalid-json', raw: text };
}

function describe(predicate: FramePredicate): string {
  return typeof predicate === 'string' ? `type '${predicate}'` : predicate.name || 'predicate';
}
