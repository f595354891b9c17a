import { closeCodeForSseStatus, CloseCode, type SnapshotFrame } from '@agentwire/protocol';
import { sseEndpoints, type SseEndpoints } from './sse-endpoints.js';
import { SseParser } from './sse-parser.js';
import type { WebSocketLike } from './web-socket-like.js';

/** The slice of the browser's EventSource the SDK uses. */
export interface EventSourceLike {
  close(): void;
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
}

export type EventSourceConstructor = new (url: string) => EventSourceLike;

export type FetchFunction = typeof fetch;

export interface SseSocketOptions {
  /** When set, the stream is read with it (browsers); otherwise with `fetch` (Node). */
  EventSource: EventSourceConstructor | undefined;
  fetch: FetchFunction;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;
/** Close code reported when the stream ended or failed without a reason of its own. */
const ABNORMAL = 1006;
/** Frame types the server sends over SSE (protocol.md section 10); `message` catches unnamed ones. */
const FRAME_EVENTS = ['welcome', 'event', 'heartbeat', 'reconnect', 'snapshot', 'accepted'];
const RECONNECT_PREFIX = '{"type":"reconnect"';

interface ClientFrameFields {
  type?: unknown;
  token?: unknown;
  lastSeq?: unknown;
  epoch?: unknown;
  seq?: unknown;
  id?: unknown;
  runId?: unknown;
}

/** Tries of one GET /v1/runs/{runId} sync, the first included. */
const SYNC_ATTEMPTS = 5;
const SYNC_RETRY_BASE_MS = 250;

/**
 * The SSE transport behind the WebSocket interface the client is written
 * against (protocol.md section 10), so both transports share one client:
 * - `hello` opens GET /v1/sse with the token and the position (lastSeq,
 *   epoch). Browsers read it with their own EventSource (token in the
 *   query: EventSource cannot send headers), Node with fetch (token in
 *   Authorization). EventSource's own reconnect is switched off: the client
 *   resumes from what the application processed, as on a WebSocket;
 * - `ack` is POST /v1/ack, `publish` is POST /v1/publish, whose answer comes
 *   back as the `accepted` or `error` frame a WebSocket would have carried;
 * - `sync` is GET /v1/runs/{runId}: its 200 is the `snapshot` frame, a 404
 *   (run not retained) becomes a snapshot with status `unknown`; a lost
 *   answer, a 429 or a 5xx is asked again (SYNC_ATTEMPTS in all, backing off)
 *   while the stream lasts, and the run store asks again on the run's next
 *   event or welcome;
 * - a refused stream's HTTP status becomes the close code a WebSocket
 *   would have been closed with (401 -> 4001, 429 -> 4008, 400 -> 4400),
 *   a stream that ends after `reconnect` closes with 4503, any other end
 *   with 1006, so reconnects follow the same rules.
 */
export class SseSocket implements WebSocketLike {
  readyState = CONNECTING;
  onopen: ((event: never) => void) | null = null;
  onmessage: ((event: never) => void) | null = null;
  onclose: ((event: never) => void) | null = null;
  onerror: ((event: never) => void) | null = null;

  readonly #endpoints: SseEndpoints;
  readonly #options: SseSocketOptions;
  readonly #fetch: FetchFunction;
  #token = '';
  #started = false;
  #reconnectSeen = false;
  #eventSource: EventSourceLike | undefined;
  readonly #abort = new AbortController();

  constructor(url: string, options: SseSocketOptions) {
    this.#endpoints = sseEndpoints(url);
    this.#options = options;
    // Called as a plain function: a browser's fetch called as a method of
    // anything but the window rejects with "Illegal invocation".
    const fetchImpl = options.fetch;
    this.#fetch = (input, init) => fetchImpl(input, init);
    // Open at once: the client then sends hello, which starts the stream.
    queueMicrotask(() => {
      if (this.readyState !== CONNECTING) return;
      this.readyState = OPEN;
      this.onopen?.({} as never);
    });
  }

  send(text: string): void {
    if (this.readyState !== OPEN) throw new Error('SSE transport is not open');
    let frame: ClientFrameFields;
    try {
      frame = JSON.parse(text) as ClientFrameFields;
    } catch {
      return;
    }
    if (frame.type === 'hello' && !this.#started) {
      this.#started = true;
      this.#token = typeof frame.token === 'string' ? frame.token : '';
      this.#openStream(frame);
    } else if (frame.type === 'ack') {
      this.#post(this.#endpoints.ack, JSON.stringify({ seq: frame.seq })).catch(() => undefined);
    } else if (frame.type === 'publish') {
      this.#publish(text, frame.id);
    } else if (frame.type === 'sync' && typeof frame.runId === 'string') {
      this.#sync(frame.runId);
    }
  }

  close(code: number = CloseCode.Normal, reason = ''): void {
    this.#finish(code, reason);
  }

  #openStream(hello: ClientFrameFields): void {
    const query = new URLSearchParams();
    if (typeof hello.lastSeq === 'number') query.set('lastSeq', String(hello.lastSeq));
    if (typeof hello.epoch === 'string') query.set('epoch', hello.epoch);
    const EventSourceImpl = this.#options.EventSource;
    if (EventSourceImpl !== undefined) {
      if (this.#token !== '') query.set('token', this.#token);
      this.#listen(new EventSourceImpl(`${this.#endpoints.stream}?${query.toString()}`));
    } else {
      this.#read(`${this.#endpoints.stream}?${query.toString()}`).catch(() => {
        this.#ended('SSE stream failed');
      });
    }
  }

  #listen(source: EventSourceLike): void {
    this.#eventSource = source;
    const deliver = (event: { data?: unknown }): void => {
      if (typeof event.data === 'string') this.#deliver(event.data);
    };
    for (const type of [...FRAME_EVENTS, 'message']) source.addEventListener(type, deliver);
    source.addEventListener('error', (event) => {
      // An `event: error` message carries data; the connection's own error does not.
      if (typeof event.data === 'string') {
        this.#deliver(event.data);
        return;
      }
      // EventSource cannot tell why (a refused status or a drop) and would retry by
      // itself from its Last-Event-ID: the client resumes from its own position instead.
      this.#ended('SSE stream ended');
    });
  }

  async #read(url: string): Promise<void> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.#token !== '') headers.authorization = `Bearer ${this.#token}`;
    const response = await this.#fetch(url, {
      headers,
      signal: this.#abort.signal,
      cache: 'no-store',
    });
    if (!response.ok || response.body === null) {
      const message = await errorMessage(response);
      this.#finish(closeCodeForSseStatus(response.status), message);
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser((message) => this.#deliver(message.data));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    this.#ended('SSE stream ended');
  }

  /** The stream is over: after a `reconnect` frame that is the drain (4503), else a drop. */
  #ended(reason: string): void {
    this.#finish(this.#reconnectSeen ? CloseCode.Draining : ABNORMAL, reason);
  }

  #publish(text: string, id: unknown): void {
    const frameId = typeof id === 'string' ? id : '';
    const body = JSON.parse(text) as Record<string, unknown>;
    delete body.type;
    this.#post(this.#endpoints.publish, JSON.stringify(body)).then(
      async (response) => {
        if (response.status === 202) {
          await response.body?.cancel();
          this.#deliver(JSON.stringify({ type: 'accepted', id: frameId }));
          return;
        }
        const answer = (await response.json().catch(() => ({}))) as {
          error?: unknown;
          message?: unknown;
        };
        this.#deliver(
          JSON.stringify({
            type: 'error',
            code: typeof answer.error === 'string' ? answer.error : 'unavailable',
            message:
              typeof answer.message === 'string' ? answer.message : `HTTP ${response.status}`,
            id: frameId,
          }),
        );
      },
      () => {
        // Unsettled: the client sends it again (same id) after its next welcome.
      },
    );
  }

  #sync(runId: string, attempt = 0): void {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#token !== '') headers.authorization = `Bearer ${this.#token}`;
    // A run that has ended sends no next event to ask again on: a lost
    // answer is asked for again here, a few times, while the stream lasts.
    const retry = (): void => {
      if (this.readyState !== OPEN || attempt + 1 >= SYNC_ATTEMPTS) return;
      setTimeout(
        () => {
          if (this.readyState === OPEN) this.#sync(runId, attempt + 1);
        },
        SYNC_RETRY_BASE_MS * 2 ** attempt,
      );
    };
    this.#fetch(`${this.#endpoints.runs}${encodeURIComponent(runId)}`, {
      headers,
      cache: 'no-store',
    })
      .then(async (response) => {
        if (response.status === 200) {
          this.#deliver(await response.text());
        } else {
          await response.body?.cancel();
          if (response.status === 404) {
            const unknown: SnapshotFrame = {
              type: 'snapshot',
              runId,
              status: 'unknown',
              streams: {},
            };
            this.#deliver(JSON.stringify(unknown));
          } else if (response.status === 429 || response.status >= 500) retry();
        }
      })
      .catch(retry);
  }

  #post(url: string, body: string): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#token !== '') headers.authorization = `Bearer ${this.#token}`;
    return this.#fetch(url, { method: 'POST', headers, body });
  }

  #deliver(data: string): void {
    if (this.readyState !== OPEN) return;
    if (data.startsWith(RECONNECT_PREFIX)) this.#reconnectSeen = true;
    this.onmessage?.({ data } as never);
  }

  #finish(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.#eventSource?.close();
    this.#abort.abort();
    queueMicrotask(() => this.onclose?.({ code, reason } as never));
  }
}

async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { message?: unknown };
    return typeof body.message === 'string' ? body.message : `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}
