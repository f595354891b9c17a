import { ingestUntilAccepted } from '@agentwire/testing';

export interface LoadOptions {
  /** Edge base URLs; requests rotate over them. */
  edges: string[];
  ingestToken: string;
  users: string[];
  eventsPerSecond: number;
  durationMs: number;
  /** Events per POST. */
  batchSize: number;
  /** Called after each accepted batch (e.g. to trigger a fault at some point). */
  onProgress?: (accepted: number) => void;
}

export interface LoadResult {
  /** Accepted event ids per user, in acceptance order. */
  acceptedByUser: Map<string, string[]>;
  /** When each event id was answered 202. */
  acceptedAt: Map<string, number>;
  accepted: number;
  retries: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Publishes critical events at a fixed rate for a bounded time, retrying a
 * refused or failed batch with the same ids (503 while Redis restarts, a
 * killed edge) on the next edge until it is accepted (ingestUntilAccepted).
 */
export async function publishLoad(options: LoadOptions): Promise<LoadResult> {
  const acceptedByUser = new Map<string, string[]>(options.users.map((u) => [u, []]));
  const acceptedAt = new Map<string, number>();
  const batches = Math.ceil(
    (options.eventsPerSecond * options.durationMs) / 1000 / options.batchSize,
  );
  const interval = options.durationMs / batches;
  const start = Date.now();
  let accepted = 0;
  let retries = 0;
  let edge = 0;
  for (let b = 0; b < batches; b++) {
    const events = Array.from({ length: options.batchSize }, (_, i) => {
      const n = b * options.batchSize + i;
      const userId = options.users[n % options.users.length] as string;
      return { id: `load-${n}`, userId, name: 'tool_executing', critical: true, data: { n } };
    });
    const sent = await ingestUntilAccepted(options.edges, options.ingestToken, events, {
      first: edge,
      // Outages of the fault tests last seconds; the test's own timeout bounds the wait.
      giveUpAfterMs: 60_000,
    });
    edge = sent.next;
    retries += sent.retries;
    const now = Date.now();
    for (const event of events) {
      acceptedByUser.get(event.userId)?.push(event.id);
      acceptedAt.set(event.id, now);
    }
    accepted += events.length;
    options.onProgress?.(accepted);
    const due = start + (b + 1) * interval;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  return { acceptedByUser, acceptedAt, accepted, retries };
}
