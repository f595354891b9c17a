import { setTimeout as sleep } from 'node:timers/promises';
import type { IngestEvent } from '@agentwire/protocol';
import { PublishRejectedError } from './publisher-errors.js';
import { RunWriter, type RunOptions } from './run-writer.js';

export interface HttpPublisherOptions {
  /** Base URL of any edge (or the load balancer), e.g. http://127.0.0.1:8080 */
  url: string;
  /** INGEST_TOKEN of the deployment. */
  token: string;
  /**
   * Attempts per call on 429, 503 and network errors; the same event ids are
   * sent again, so a retry never delivers twice.
   * @default 5
   */
  attempts?: number;
  /** fetch implementation. @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface PublishOptions {
  /** Aborting it ends the call at once (the fetch and any wait before a retry) with an AbortError. */
  signal?: AbortSignal;
}

/**
 * Publishes events over POST /v1/events. Resolves once the edge answered 202,
 * i.e. the events are durable in Redis.
 */
export class HttpPublisher {
  private readonly endpoint: string;
  private readonly attempts: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HttpPublisherOptions) {
    this.endpoint = new URL('/v1/events', options.url).toString();
    this.attempts = options.attempts ?? 5;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  /**
   * A writer for one agent run: its lifecycle events and its text streams,
   * batched and published in order through this publisher (see RunWriter).
   */
  run(options: RunOptions): RunWriter {
    return new RunWriter(this, options);
  }

  async publish(
    events: IngestEvent | readonly IngestEvent[],
    options: PublishOptions = {},
  ): Promise<number> {
    const { signal } = options;
    const body = JSON.stringify(events);
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      try {
        const response = await this.fetchImpl(this.endpoint, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${this.options.token}`,
            'content-type': 'application/json',
          },
          body,
          signal,
        });
        const answer: unknown = await response.json().catch(() => null);
        if (response.status === 202) return (answer as { accepted: number }).accepted;
        if (response.status !== 429 && response.status !== 503) {
          throw new PublishRejectedError(response.status, answer);
        }
        const retryAfter = Number(response.headers.get('retry-after') ?? '1');
        lastError = new Error(`ingest answered ${response.status}`);
        const waitMs = Math.min(5000, (Number.isFinite(retryAfter) ? retryAfter : 1) * 1000);
        await sleep(waitMs, undefined, { signal });
      } catch (error) {
        if (error instanceof PublishRejectedError || signal?.aborted) throw error;
        lastError = error;
        await sleep(Math.min(2000, 100 * 2 ** attempt), undefined, { signal });
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }
}
