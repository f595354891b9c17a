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
 */
export class SseSink implements WireSocket {
  private started = false;
  private closed = false;
  private buffered = 0;

  constructor(
    private readonly res: HttpResponse,
    private readonly options: SseSinkOptions,
  ) {
    res.onAborted(() => this.finish(SSE_CLIENT_GONE));
    res.onWritable(() => this.onWritable());
  }

  send(message: string): number {
    if (this.closed || this.buffered > this.options.maxBufferedBytes) return DROPPED;
    this.write(sseMessage(message, this.options.owner.epoch));
    if (isReconnectFrame(message)) this.end(CloseCode.Draining);
    return this.buffered > 0 ? BUFFERED : SENT;
  }

  getBufferedAmount(): number {
    return this.buffered;
  }

  cork(cb: () => void): unknown {
    if (this.closed) cb();
    else this.res.cork(cb);
    return this;
  }

  /** Ends the stream (or, before its first message, answers with an HTTP status). */
  end(code: number = CloseCode.Normal, reason = ''): void {
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

  private write(text: string): void {
    const res = this.res;
    if (!this.started) {
      this.started = true;
      res.writeStatus('200 OK');
      res.writeHeader('content-type', 'text/event-stream; charset=utf-8');
      res.writeHeader('cache-control', 'no-cache, no-transform');
      // Reverse proxies that buffer responses (nginx) must not hold the stream.
      res.writeHeader('x-accel-buffering', 'no');
      for (const [name, value] of Object.entries(this.options.headers))
        res.writeHeader(name, value);
    }
    if (res.write(text)) this.buffered = 0;
    else this.buffered += text.length;
  }

  private onWritable(): boolean {
    if (this.closed || this.buffered === 0) return true;
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
