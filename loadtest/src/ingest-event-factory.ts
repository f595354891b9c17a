import { randomBytes } from 'node:crypto';

/** The ingest body of one event (protocol.md section 6). */
export interface LoadEvent {
  id: string;
  userId: string;
  name: string;
  critical: boolean;
  runId: string;
  data: Record<string, string | number>;
}

export interface EventMixOptions {
  /** Number of distinct users; events go to them round robin. */
  users: number;
  /** Fraction of events marked critical, 0..1, spread evenly. */
  criticalShare: number;
  /** Prefix of user ids, e.g. `lt-3f9a-u` gives lt-3f9a-u0, lt-3f9a-u1, ... */
  userPrefix: string;
  /** Extra characters in `data.pad`, to test larger events. @default 0 */
  padBytes?: number;
}

/** A short random tag that keeps ids and user ids of separate runs apart (the dedupe window is 24 h). */
export function runTag(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Produces ingest events with ids unique across runs: `<tag>-<counter in base 36>`.
 * Critical events are spread evenly (event k is critical when
 * floor((k+1)*share) > floor(k*share)), so any window of the run has the
 * configured mix, not a random one.
 */
export class IngestEventFactory {
  private counter = 0;
  private readonly idPrefix = `lt-${runTag()}-`;
  private readonly pad: string;

  constructor(private readonly options: EventMixOptions) {
    if (!Number.isInteger(options.users) || options.users < 1)
      throw new RangeError('users must be >= 1');
    if (!(options.criticalShare >= 0 && options.criticalShare <= 1)) {
      throw new RangeError('criticalShare must be within [0, 1]');
    }
    this.pad = 'x'.repeat(options.padBytes ?? 0);
  }

  /** Events produced so far. */
  get produced(): number {
    return this.counter;
  }

  /** Hot path (one call per event under load): plain string building, no JSON of large objects. */
  next(): LoadEvent {
    const k = this.counter++;
    const share = this.options.criticalShare;
    const critical = Math.floor((k + 1) * share) > Math.floor(k * share);
    const data: Record<string, string | number> = { k };
    if (this.pad.length > 0) data.pad = this.pad;
    return {
      id: this.idPrefix + k.toString(36),
      userId: this.options.userPrefix + String(k % this.options.users),
      name: critical ? 'tool_executing' : 'token_delta',
      critical,
      runId: 'loadtest',
      data,
    };
  }

  /** A request body: one event object for batch size 1, else an array of `batchSize` events. */
  body(batchSize: number): string {
    if (batchSize === 1) return JSON.stringify(this.next());
    const events: LoadEvent[] = [];
    for (let i = 0; i < batchSize; i++) events.push(this.next());
    return JSON.stringify(events);
  }
}
