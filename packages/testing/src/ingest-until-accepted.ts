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
  /** The edge after the one that accepted (where a round-robin producer goes next). */
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
    const status = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(options.requestTimeoutMs ?? 3000),
    }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 202) return { retries, next: edge };
    if (status !== 0 && status !== 503) throw new Error(`ingest answered ${status}`);
    if (Date.now() >= giveUpAt)
      throw new Error(`ingest not accepted after ${retries + 1} attempts`);
    await sleep(options.retryDelayMs ?? 50);
  }
}
