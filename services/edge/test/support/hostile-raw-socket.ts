import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * Raw TCP clients for hostile-input tests: HTTP requests written byte by
 * byte (bad framing, trickled bodies) and WebSocket frames built by hand
 * (invalid UTF-8, garbage, unmasked), which well-behaved clients cannot send.
 */

export interface RawHttpResponse {
  /** 0 when the server closed the connection without answering. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (after its answer, or instead of one). */
  closedByServer: boolean;
  /** Milliseconds from the first byte sent to the answer (or to the close). */
  elapsedMs: number;
}

export interface RawHttpOptions {
  /** Give up (and destroy the socket) after this long. @default 5000 */
  timeoutMs?: number;
  /** After a complete answer, wait this long to see whether the server closes. @default 150 */
  lingerMs?: number;
  /** Sent after `request`, `chunkBytes` at a time every `intervalMs`, until the server answers. */
  trickle?: { data: Buffer | string; chunkBytes: number; intervalMs: number };
}

/** Sends `request` on a fresh connection and reads one HTTP answer. */
export function rawHttp(
  port: number,
  request: Buffer | string,
  options: RawHttpOptions = {},
): Promise<RawHttpResponse> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const lingerMs = options.lingerMs ?? 150;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const started = Date.now();
    let received = Buffer.alloc(0);
    let answeredAt: number | undefined;
    let trickleTimer: NodeJS.Timeout | undefined;
    let lingerTimer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timeout);
      clearTimeout(lingerTimer);
      clearInterval(trickleTimer);
      socket.destroy();
      const parsed = parseResponse(received);
      resolve({
        ...parsed,
        closedByServer,
        elapsedMs: (answeredAt ?? Date.now()) - started,
      });
    };
    const timeout = setTimeout(() => {
      if (done) return;
      done = true;
      clearInterval(trickleTimer);
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms; got: ${received.toString('latin1')}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (answeredAt === undefined && isComplete(received)) {
        answeredAt = Date.now();
        clearInterval(trickleTimer);
        lingerTimer = setTimeout(() => finish(false), lingerMs);
      }
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => {
      // A reset by the server shows up as 'close' right after; nothing to add.
    });
    socket.write(request);
    const trickle = options.trickle;
    if (trickle) {
      const data = Buffer.from(trickle.data);
      let offset = 0;
      trickleTimer = setInterval(() => {
        if (offset >= data.length || socket.destroyed) {
          clearInterval(trickleTimer);
          return;
        }
        socket.write(data.subarray(offset, offset + trickle.chunkBytes));
        offset += trickle.chunkBytes;
      }, trickle.intervalMs);
    }
  });
}

function headerEnd(data: Buffer): number {
  return data.indexOf('\r\n\r\n');
}

function isComplete(data: Buffer): boolean {
  const end = headerEnd(data);
  if (end < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(data.subarray(0, end).toString('latin1'));
  return data.length - (end + 4) >= Number(length?.[1] ?? 0);
}

function parseResponse(data: Buffer): Omit<RawHttpResponse, 'closedByServer' | 'elapsedMs'> {
  const end = headerEnd(data);
  if (end < 0) return { status: 0, headers: {}, body: '' };
  const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { status, headers, body: data.subarray(end + 4).toString('utf8') };
}

/** The head of a POST /v1/events request (ends with the blank line). */
export function ingestRequestHead(token: string, headers: Record<string, string> = {}): string {
  const lines = Object.entries({
    host: '127.0.0.1',
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    ...headers,
  }).map(([name, value]) => `${name}: ${value}`);
  return `POST /v1/events HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** The head of a WebSocket opening handshake; `undefined` leaves a header out. */
export function upgradeRequestHead(
  options: { method?: string; path?: string; headers?: Record<string, string | undefined> } = {},
): string {
  const headers: Record<string, string | undefined> = {
    host: '127.0.0.1',
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-version': '13',
    'sec-websocket-key': randomBytes(16).toString('base64'),
    ...options.headers,
  };
  const lines = Object.entries(headers)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}: ${value}`);
  return `${options.method ?? 'GET'} ${options.path ?? '/v1/ws'} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

export const Opcode = { text: 1, binary: 2, close: 8, ping: 9 } as const;

/** One client frame (masked unless told otherwise, as RFC 6455 requires). */
export function wsFrame(
  opcode: number,
  payload: Buffer | string,
  options: { mask?: boolean; fin?: boolean } = {},
): Buffer {
  const body = Buffer.from(payload);
  const mask = options.mask ?? true;
  const maskBit = mask ? 0x80 : 0;
  let head: Buffer;
  if (body.length < 126) {
    head = Buffer.from([0, maskBit | body.length]);
  } else if (body.length < 65536) {
    head = Buffer.alloc(4);
    head.writeUInt16BE(body.length, 2);
    head[1] = maskBit | 126;
  } else {
    head = Buffer.alloc(10);
    head.writeBigUInt64BE(BigInt(body.length), 2);
    head[1] = maskBit | 127;
  }
  head[0] = ((options.fin ?? true) ? 0x80 : 0) | opcode;
  if (!mask) return Buffer.concat([head, body]);
  const key = randomBytes(4);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (key[i % 4] as number);
  return Buffer.concat([head, key, body]);
}

export interface RawWsEnd {
  /** The server's close frame, when it sent one. */
  closeFrame?: { code: number; reason: string };
  /** Text frames received, parsed as JSON where possible. */
  texts: string[];
}

/**
 * A WebSocket connection after a hand-made handshake. Reads server frames
 * (unmasked) and resolves `ended` when the TCP connection closes.
 */
export class RawWsSocket {
  readonly ended: Promise<RawWsEnd>;
  private buffer = Buffer.alloc(0);
  private readonly texts: string[] = [];
  private closeFrame: RawWsEnd['closeFrame'];

  private constructor(private readonly socket: Socket) {
    this.ended = new Promise((resolve) => {
      socket.on('close', () => resolve({ closeFrame: this.closeFrame, texts: this.texts }));
    });
  }

  /** Completes a handshake (expects 101) and hands over the socket. */
  static open(port: number, head = upgradeRequestHead(), timeoutMs = 5000): Promise<RawWsSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let received = Buffer.alloc(0);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('no handshake answer in time'));
      }, timeoutMs);
      socket.on('error', () => {
        // Surfaced as 'close' (and an unresolved handshake below).
      });
      const onData = (chunk: Buffer): void => {
        received = Buffer.concat([received, chunk]);
        const end = headerEnd(received);
        if (end < 0) return;
        clearTimeout(timer);
        socket.off('data', onData);
        const statusLine = received.subarray(0, received.indexOf('\r\n')).toString('latin1');
        if (!statusLine.startsWith('HTTP/1.1 101')) {
          socket.destroy();
          reject(new Error(`handshake refused: ${statusLine}`));
          return;
        }
        const ws = new RawWsSocket(socket);
        socket.on('data', (more: Buffer) => ws.onData(more));
        ws.onData(received.subarray(end + 4));
        resolve(ws);
      };
      socket.on('data', onData);
      socket.on('close', () => {
        clearTimeout(timer);
        reject(new Error('connection closed during the handshake'));
      });
      socket.write(head);
    });
  }

  write(data: Buffer): void {
    this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const frame = readServerFrame(this.buffer);
      if (frame === undefined) return;
      this.buffer = this.buffer.subarray(frame.size);
      if (frame.opcode === Opcode.text) this.texts.push(frame.payload.toString('utf8'));
      if (frame.opcode === Opcode.close && frame.payload.length >= 2) {
        this.closeFrame = {
          code: frame.payload.readUInt16BE(0),
          reason: frame.payload.subarray(2).toString('utf8'),
        };
      }
    }
  }
}

function readServerFrame(
  data: Buffer,
): { opcode: number; payload: Buffer; size: number } | undefined {
  if (data.length < 2) return undefined;
  const opcode = (data[0] as number) & 0x0f;
  let length = (data[1] as number) & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (data.length < 4) return undefined;
    length = data.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (data.length < 10) return undefined;
    length = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  if (data.length < offset + length) return undefined;
  return { opcode, payload: data.subarray(offset, offset + length), size: offset + length };
}

/**
 * Reads one sample from the edge's /metrics: the line of `name` whose labels
 * contain `label` (e.g. `status="429"`). A labelled child that was never
 * touched is not exported: that reads as 0.
 */
export async function readMetric(edgeUrl: string, name: string, label?: string): Promise<number> {
  const text = await (await fetch(`${edgeUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) &&
        (label === undefined || l.includes(label)),
    );
  if (line === undefined) {
    if (label !== undefined) return 0;
    throw new Error(`metric ${name} not found`);
  }
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}
