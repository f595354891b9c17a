import { CloseCode, ErrorCode, sseStatusForClose } from '@agentwire/protocol';
import type { HttpResponse } from 'uWebSockets.js';
import type { WireSocket } from '../ws/connection.js';
import { isReconnectFrame, sseMessage } from './sse-format.js';

/** WireSocket.send results, as uWS WebSocket.send reports them. */
const SENT = 1;
const BUFFERED = 0;
const DROPPED = 2;
/** An SSE comment: EventSource ignores it; written to make uWS flush its buffer. */
const FLUSH_COMMENT = ':\n\n';
/**
 * The most bytes one uWS write may carry: uWS's cork buffer (16 KiB) less
 * room for the chunk's framing. See `writePiece` for why a write must fit.
 */
const PIECE_BYTES = 16 * 1024 - 64;
/** Strings this short fit in a piece whatever their characters (at most 3 UTF-8 bytes per UTF-16 unit). */
const PIECE_CHARS = Math.floor(PIECE_BYTES / 3);
/** The close code recorded when the client went away (the WebSocket "going away"). */
export const SSE_CLIENT_GONE = 1001;

const statusLine: Readonly<Record<number, string>> = {
  400: '400 Bad Request',
  401: '401 Unauthorized',
  429: '429 Too Many Requests',
  503: '503 Service Unavailable',
};
const errorCodeByStatus: Readonly<Record<number, string>> = {
  400: ErrorCode.BadRequest,
  401: ErrorCode.Unauthorized,
  429: ErrorCode.LimitReached,
  503: ErrorCode.Unavailable,
};

export interface SseSinkOptions {
  /** Response headers of the stream besides Content-Type (CORS). */
  headers: Readonly<Record<string, string>>;
  /** Like the WebSocket's maxBackpressure: sends past this are dropped (and the stream ended). */
  maxBufferedBytes: number;
  /**
   * The connection writing to this sink: its epoch (for `id: <epoch>:<seq>`)
   * and its drain handler, called when uWS emptied its buffer. The object
   * itself rather than two closures: idle streams are many.
   */
  owner: { readonly epoch: string; onDrain(): void };
  /** Called once, when the stream ended (by us or by the client). */
  onClosed: (code: number) => void;
}

/**
 * The SSE connection sink: a chunked `text/event-stream` response of uWS
 * that a Connection writes its frames to, exactly as it writes them to a
 * WebSocket, so one delivery code path serves both (and every frame type,
 * snapshots included). Each frame becomes one SSE message (sse-format.ts).
 *
 * Status and headers go out with the first message (the welcome), so a
 * stream refused before it (user limit, session store down) still gets an
 * HTTP status: `end()` before the first message answers
 * sseStatusForClose(code) with a JSON error body.
 *
 * Backpressure: uWS HTTP responses do not report their buffered bytes, so
 * the sink counts the bytes written since uWS last accepted a write whole
 * (its buffer was then empty). That count is an upper bound of what uWS
 * holds, and the Connection applies the same soft and hard send-buffer
 * limits to it as to a WebSocket's buffered amount: a slow reader loses
 * non-critical events first and is then ended (it resumes with
 * Last-Event-ID). uWS drains its buffer only when written to once an
 * onWritable handler is set, so the handler writes an SSE comment.
 *
 * A `reconnect` frame ends the stream after it is written (protocol.md
 * section 10): `retry: <afterMs>` makes EventSource wait that long.
 *
 * Corking: `cork(cb)` gathers the messages `cb` sends into one text, which
 * is then written in pieces that each fit uWS's cork buffer, each in a cork
 * of its own (`writePiece` says why).
 */
export class SseSink implements WireSocket {
  private started = false;
  private closed = false;
  private buffered = 0;
  /** Inside `cork`: the messages sent so far, written when the callback returns. */
  private batch: string | undefined;
  /** A reconnect frame was batched: end the stream once the batch is written. */
  private endAfterBatch = false;

  constructor(
    private readonly res: HttpResponse,
    private readonly options: SseSinkOptions,
  ) {
    res.onAborted(() => this.finish(SSE_CLIENT_GONE));
    res.onWritable(() => this.onWritable());
  }

  send(message: string): number {
    if (this.closed || this.buffered > this.options.maxBufferedBytes) return DROPPED;
    const text = sseMessage(message, this.options.owner.epoch);
    if (this.batch !== undefined) {
      this.batch += text;
      if (isReconnectFrame(message)) this.endAfterBatch = true;
    } else {
      this.write(text);
      if (isReconnectFrame(message)) this.end(CloseCode.Draining);
    }
    return this.buffered > 0 ? BUFFERED : SENT;
  }

  getBufferedAmount(): number {
    return this.buffered;
  }

  cork(cb: () => void): unknown {
    if (this.closed || this.batch !== undefined) {
      cb();
      return this;
    }
    this.batch = '';
    try {
      cb();
    } finally {
      this.flushBatch();
    }
    return this;
  }

  /** Ends the stream (or, before its first message, answers with an HTTP status). */
  end(code: number = CloseCode.Normal, reason = ''): void {
    if (this.closed) return;
    // What was sent before the end goes out before it (a slow reader's is dropped below).
    if (code !== CloseCode.SlowConsumer) this.flushBatch();
    if (this.closed) return;
    this.closed = true;
    const res = this.res;
    if (!this.started) {
      const status = sseStatusForClose(code);
      const body = JSON.stringify({ error: errorCodeByStatus[status], message: reason });
      res.cork(() => {
        res.writeStatus(statusLine[status] ?? '503 Service Unavailable');
        for (const [name, value] of Object.entries(this.options.headers))
          res.writeHeader(name, value);
        if (status === 503) res.writeHeader('retry-after', '1');
        res.writeHeader('content-type', 'application/json').end(body, true);
      });
    } else if (code === CloseCode.SlowConsumer) {
      // Its buffer is what is wrong: do not wait for it to drain.
      res.close();
    } else {
      res.cork(() => res.end(undefined, true));
    }
    this.options.onClosed(code);
  }

  private flushBatch(): void {
    const text = this.batch;
    this.batch = undefined;
    if (text !== undefined && text !== '' && !this.closed) this.write(text);
    if (this.endAfterBatch) {
      this.endAfterBatch = false;
      this.end(CloseCode.Draining);
    }
  }

  private write(text: string): void {
    const res = this.res;
    if (!this.started) {
      this.started = true;
      res.cork(() => {
        res.writeStatus('200 OK');
        res.writeHeader('content-type', 'text/event-stream; charset=utf-8');
        res.writeHeader('cache-control', 'no-cache, no-transform');
        // Reverse proxies that buffer responses (nginx) must not hold the stream.
        res.writeHeader('x-accel-buffering', 'no');
        for (const [name, value] of Object.entries(this.options.headers))
          res.writeHeader(name, value);
      });
    }
    if (text.length <= PIECE_CHARS) {
      this.writePiece(text);
      return;
    }
    // Split as bytes: HTTP chunks need not end on a character, readers decode the stream.
    const bytes = Buffer.from(text, 'utf8');
    for (let at = 0; at < bytes.length && !this.closed; at += PIECE_BYTES)
      this.writePiece(bytes.subarray(at, at + PIECE_BYTES));
  }

  /**
   * One write of at most PIECE_BYTES in a cork of its own. uWS 20.30 (the
   * version we run) loses data otherwise: a write that does not fit in what
   * is left of the cork buffer first flushes that buffer, and when the socket
   * cannot take the whole of it, the write's own bytes are dropped while its
   * chunk header has gone out (the reader sees a malformed chunk and the
   * stream breaks). A piece written into an empty cork buffer always fits,
   * and the cork's end buffers whatever the socket did not take.
   */
  private writePiece(piece: string | Uint8Array): void {
    const res = this.res;
    let whole = false;
    res.cork(() => {
      whole = res.write(piece);
    });
    if (whole) this.buffered = 0;
    else this.buffered += piece.length;
  }

  private onWritable(): boolean {
    // uWS calls this only after a write the socket could not take whole, even
    // one it reported as whole (a cork buffer flushed as its cork ended, with
    // `buffered` at 0): write in any case, or that tail waits for the next message.
    if (this.closed || !this.started) return true;
    let flushed = false;
    this.res.cork(() => {
      flushed = this.res.write(FLUSH_COMMENT);
    });
    if (flushed) {
      this.buffered = 0;
      // The Connection's writers (a paused replay) wait for this.
      this.options.owner.onDrain();
    }
    return flushed;
  }

  private finish(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.options.onClosed(code);
  }
}
