import { sleep } from './wait-until.js';

export interface IngestUntilAcceptedOptions {
  /** Index of the edge to try first. @default 0 */
  first?: number;
  /** Pause between attempts. @default 50 */
  retryDelayMs?: number;
  /** Deadline of one request. @default 3000 */
  requestTimeoutMs?: number;
  /** Give up (throw) after this long. @default 20000 */
  giveUpAfterMs?: number;
}

export interface IngestUntilAcceptedResult {
  /** Attempts that failed before the accepted one. */
  retries: number;
  /** The edge that accepted (an index that may exceed the list: take it modulo its length). */
  accepted: number;
  /** The edge after it (where a round-robin producer goes next). */
  next: number;
}

/**
 * POSTs one batch of events to the edges in turn until one answers 202, as
 * a producer does through a killed edge or a Redis outage: a failed request
 * or a 503 is sent again with the same ids on the next edge, which the
 * contract makes safe (an id seen again is accepted and delivered once).
 * Any other status throws.
 */
export async function ingestUntilAccepted(
  edgeUrls: readonly string[],
  ingestToken: string,
  events: readonly unknown[],
  options: IngestUntilAcceptedOptions = {},
): Promise<IngestUntilAcceptedResult> {
  const giveUpAt = Date.now() + (options.giveUpAfterMs ?? 20_000);
  const body = JSON.stringify(events);
  let edge = options.first ?? 0;
  for (let retries = 0; ; retries++) {
    const url = `${edgeUrls[edge % edgeUrls.length] as string}/v1/events`;
    edge++;
    const answer = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(options.requestTimeoutMs ?? 3000),
    }).then(
      async (response) => ({ status: response.status, text: await response.text() }),
      () => ({ status: 0, text: '' }),
    );
    if (answer.status === 202) return { retries, accepted: edge - 1, next: edge };
    if (answer.status !== 0 && answer.status !== 503) {
      throw new Error(`ingest answered ${answer.status}: ${answer.text.slice(0, 500)}`);
    }
    if (Date.now() >= giveUpAt)
      throw new Error(`ingest not accepted after ${retries + 1} attempts`);
    await sleep(options.retryDelayMs ?? 50);
  }
}
