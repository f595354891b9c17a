import { sleep, startStack, type ServiceProcess, type Stack } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectUser,
  ingestEvent,
  ingestOk,
  range,
  seqsOf,
  uniqueUser,
} from './support/edge-test-kit.js';
import { readMetric } from './support/hostile-raw-socket.js';

let stack: Stack;
/** 1 event/s, burst 10. */
let limited: ServiceProcess;
/** 1 event/s, burst 5: for a batch above the burst. */
let tiny: ServiceProcess;

beforeAll(async () => {
  stack = await startStack();
  [limited, tiny] = await Promise.all([
    stack.startEdge({ INGEST_RATE_PER_SEC: '1', INGEST_BURST: '10' }),
    stack.startEdge({ INGEST_RATE_PER_SEC: '1', INGEST_BURST: '5' }),
  ]);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

function post(edge: ServiceProcess, events: unknown) {
  return fetch(`${edge.url}/v1/events`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stack.env.INGEST_TOKEN}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(events),
    signal: AbortSignal.timeout(5000),
  });
}

/** A 429 whose Retry-After (whole seconds) lies in [min, max]. */
async function expectRateLimited(response: Response, min: number, max = min): Promise<void> {
  expect(response.status).toBe(429);
  const retryAfter = response.headers.get('retry-after') ?? '';
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(min);
  expect(Number(retryAfter)).toBeLessThanOrEqual(max);
  expect(response.headers.get('content-type')).toBe('application/json');
  const body = (await response.json()) as { error: string; message: string };
  expect(body.error).toBe('rate_limited');
  expect(body.message).toMatch(/retry in \d+ s/);
}

describe('ingest rate limit per token (per edge node)', () => {
  it('answers 429 with Retry-After over the rate, appends nothing, and lets events in again', async () => {
    const user = uniqueUser('rated');
    const { client } = await connectUser(stack, user);
    const batch = (count: number, label: string) =>
      range(1, count).map((n) => ingestEvent(user, { id: `${label}-${n}-${user}` }));
    const refusals429Before = await readMetric(
      limited.url,
      'aw_edge_ingest_requests_total',
      'status="429"',
    );

    // The burst goes in at once.
    expect((await post(limited, batch(10, 'burst'))).status).toBe(202);
    // The bucket is empty: refused before the body is read.
    await expectRateLimited(await post(limited, batch(1, 'refused-early')), 1);
    // Another node has its own budget.
    await ingestOk(stack, ingestEvent(uniqueUser('elsewhere')), 0);

    // After 2 s at 1/s: two events fit, six do not (refused after reading, nothing taken).
    await sleep(2000);
    await expectRateLimited(await post(limited, batch(6, 'refused-late')), 1, 4);
    expect((await post(limited, batch(2, 'refill'))).status).toBe(202);

    // Exactly the accepted events arrived, contiguous from seq 1.
    const events = await client.waitForEvents(12);
    expect(seqsOf(client)).toEqual(range(1, 12));
    expect(events.map((event) => String(event.id).split('-')[0])).toEqual([
      ...range(1, 10).map(() => 'burst'),
      'refill',
      'refill',
    ]);
    expect(
      (await readMetric(limited.url, 'aw_edge_ingest_requests_total', 'status="429"')) -
        refusals429Before,
    ).toBe(2);
    // Health and the WebSocket side are not rate limited.
    expect((await fetch(`${limited.url}/healthz`)).status).toBe(200);
    await client.close();
  });

  it('lets a batch above the burst in when the bucket is full and makes the next wait for the debt', async () => {
    const user = uniqueUser('debt');
    const response = await post(
      tiny,
      range(1, 20).map(() => ingestEvent(user)),
    );
    expect(response.status).toBe(202);
    // 5 - 20 = 15 events of debt at 1/s, plus the event asked for: 16 s.
    const next = await post(tiny, [ingestEvent(user)]);
    await expectRateLimited(next, 15, 16);
  });
});
