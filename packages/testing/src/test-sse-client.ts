import { request, type IncomingMessage } from 'node:http';

/** One SSE message as the test client received it. */
export interface SseReceived {
  event: string;
  id: string | undefined;
  retry: number | undefined;
  /** The parsed `data` (every agentwire message is one JSON frame). */
  frame: Record<string, unknown>;
}

export interface SseOpenOptions {
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Source address of the connection (spreads ephemeral ports over 127.0.0.x). */
  localAddress?: string;
  /** Called for every message as it arrives. */
  onMessage?: (message: SseReceived) => void;
  /** Keep every message in `messages`. @default true (false for long load runs) */
  keepMessages?: boolean;
}

/** A refused stream: its HTTP status and body. */
export class SseRefusedError extends Error {
  override readonly name = 'SseRefusedError';
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: IncomingMessage['headers'],
  ) {
    super(`SSE refused with ${status}: ${body}`);
  }
}

type Waiter = { check: () => boolean; resolve: () => void };

/**
 * A raw `text/event-stream` reader for tests, on node:http so that a test
 * can pause reading (TCP backpressure) and see exactly what the edge wrote:
 * every message with its `event`, `id` and `retry` fields.
 */
export class TestSseClient {
  readonly messages: SseReceived[] = [];
  /** Resolves when the response ended or the socket closed. */
  readonly ended: Promise<void>;
  private rest = '';
  private readonly waiters = new Set<Waiter>();
  private done = false;

  private constructor(
    private readonly response: IncomingMessage,
    private readonly options: SseOpenOptions,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.onChunk(chunk));
    this.ended = new Promise((resolve) => {
      const finish = (): void => {
        this.done = true;
        this.notify();
        resolve();
      };
      response.on('end', finish);
      response.on('close', finish);
      response.on('error', finish);
    });
  }

  /** GET `url`; resolves once the status is 200, rejects with SseRefusedError otherwise. */
  static open(url: string, options: SseOpenOptions = {}): Promise<TestSseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, {
        headers: { accept: 'text/event-stream', ...options.headers },
        timeout: options.timeoutMs ?? 10_000,
        // One socket per stream, never pooled.
        agent: false,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      });
      req.on('timeout', () => req.destroy(new Error(`SSE open timed out: ${url}`)));
      req.on('error', reject);
      req.on('response', (response) => {
        if (response.statusCode === 200) {
          req.setTimeout(0);
          resolve(new TestSseClient(response, options));
          return;
        }
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          reject(new SseRefusedError(response.statusCode ?? 0, body, response.headers)),
        );
      });
      req.end();
    });
  }

  get isEnded(): boolean {
    return this.done;
  }

  /** The frames of `event` messages (critical and not), in arrival order. */
  events(): Array<Record<string, unknown>> {
    return this.messages.filter((m) => m.event === 'event').map((m) => m.frame);
  }

  /** The seqs of the critical events received, in arrival order. */
  seqs(): number[] {
    return this.events()
      .filter((frame) => frame.critical === true)
      .map((frame) => frame.seq as number);
  }

  /** The id of the last message that had one (what EventSource sends as Last-Event-ID). */
  lastEventId(): string | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const id = this.messages[i]?.id;
      if (id !== undefined) return id;
    }
    return undefined;
  }

  /** Resolves when `predicate` holds; rejects after `timeoutMs` or when the stream ended first. */
  waitFor(
    predicate: (client: TestSseClient) => boolean,
    timeoutMs = 10_000,
    what = 'condition',
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          if (predicate(this)) {
            clearTimeout(timer);
            resolve();
            return true;
          }
          if (this.done) {
            clearTimeout(timer);
            reject(new Error(`SSE stream ended before: ${what}`));
            return true;
          }
          return false;
        },
        resolve,
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`));
      }, timeoutMs);
      if (!waiter.check()) this.waiters.add(waiter);
    });
  }

  /** Waits for `count` critical events. */
  waitForCritical(count: number, timeoutMs = 10_000): Promise<void> {
    return this.waitFor((c) => c.seqs().length >= count, timeoutMs, `${count} critical events`);
  }

  /** Stops reading: the edge's writes back up (TCP backpressure). */
  pause(): void {
    this.response.pause();
  }

  resume(): void {
    this.response.resume();
  }

  /** Drops the connection abruptly. */
  close(): Promise<void> {
    this.response.destroy();
    return this.ended;
  }

  private onChunk(chunk: string): void {
    const text = (this.rest + chunk).replace(/\r\n?/g, '\n');
    const blocks = text.split('\n\n');
    this.rest = blocks.pop() ?? '';
    for (const block of blocks) {
      const fields: Record<string, string> = {};
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (name === 'data') data.push(value);
        else fields[name] = value;
      }
      if (data.length === 0) continue;
      const message: SseReceived = {
        event: fields.event ?? 'message',
        id: fields.id,
        retry: fields.retry === undefined ? undefined : Number(fields.retry),
        frame: JSON.parse(data.join('\n')) as Record<string, unknown>,
      };
      if (this.options.keepMessages ?? true) this.messages.push(message);
      this.options.onMessage?.(message);
    }
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.check()) this.waiters.delete(waiter);
    }
  }
}
