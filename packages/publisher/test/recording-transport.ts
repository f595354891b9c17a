import type { IngestEvent } from '@agentwire/protocol';
import type { RunTransport } from '../src/run-writer.js';

/**
 * A RunTransport for unit tests that plays the service's part: records every
 * batch it is handed (a JSON copy, as it goes on the wire), keeps each event
 * id once (the service's dedupe), and can hold publishes in flight, refuse
 * them, or lose the answer to one it accepted.
 */
export class RecordingTransport implements RunTransport {
  /** Every publish call's events, in call order (retries included). */
  readonly calls: IngestEvent[][] = [];
  /** Events the service kept, in order, each id once. */
  readonly kept: IngestEvent[] = [];
  /** Publishes in flight right now, and the most ever at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** Errors the next publishes throw before anything is kept, in order. */
  readonly failures: Error[] = [];
  /** The next this-many publishes are kept, then throw (a 202 lost on the way back). */
  lostAnswers = 0;
  readonly #seen = new Set<string>();
  #gate: { promise: Promise<void>; open: () => void } | undefined;

  async publish(events: readonly IngestEvent[]): Promise<number> {
    const batch = JSON.parse(JSON.stringify(events)) as IngestEvent[];
    this.calls.push(batch);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.#gate) await this.#gate.promise;
      const failure = this.failures.shift();
      if (failure) throw failure;
      for (const event of batch) {
        if (this.#seen.has(event.id)) continue;
        this.#seen.add(event.id);
        this.kept.push(event);
      }
      if (this.lostAnswers > 0) {
        this.lostAnswers--;
        throw new TypeError('fetch failed');
      }
      return events.length;
    } finally {
      this.inFlight--;
    }
  }

  /** Publishes from now on wait until release(). */
  hold(): void {
    let open = (): void => undefined;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.#gate = { promise, open };
  }

  release(): void {
    this.#gate?.open();
    this.#gate = undefined;
  }

  /** The kept appends of `stream`, in order. */
  appendsOf(stream: string): IngestEvent[] {
    return this.kept.filter((event) => event.append !== undefined && event.stream === stream);
  }

  /** The kept text of `stream`: its appends joined. */
  textOf(stream: string): string {
    return this.appendsOf(stream)
      .map((event) => event.append)
      .join('');
  }
}
