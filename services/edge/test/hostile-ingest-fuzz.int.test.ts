import { isUtf8 } from 'node:buffer';
import {
  DEFAULT_CRITICAL_EVENTS,
  Limits,
  validateIngestEvent,
  type IngestRules,
} from '@agentwire/protocol';
import { startStack, type Stack, type TestWsClient } from '@agentwire/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUser, ingestEvent, ingestOk, range, uniqueUser } from './support/edge-test-kit.js';

/** Small limits, so that random bodies also hit the 413 paths. */
const MAX_EVENT_BYTES = 1024;
const MAX_BODY_BYTES = 8192;
const RUNS = 200;

let stack: Stack;
/** The user most fuzzed events are for; its socket must see exactly the accepted ones. */
let fuzzUser: string;
let listener: TestWsClient;
/** Ids of the fuzz user's events answered with 202, in request order. */
const acceptedForFuzzUser: string[] = [];
const statuses = new Map<number, number>();

beforeAll(async () => {
  stack = await startStack({
    env: {
      MAX_EVENT_BYTES: String(MAX_EVENT_BYTES),
      INGEST_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    },
  });
  fuzzUser = uniqueUser('fuzz');
  listener = (await connectUser(stack, fuzzUser)).client;
}, 60_000);

afterAll(async () => {
  await listener?.close();
  await stack?.stop();
});

const rules: IngestRules = {
  maxEventBytes: MAX_EVENT_BYTES,
  criticalNames: new Set(DEFAULT_CRITICAL_EVENTS),
};

/**
 * The status protocol.md section 6 prescribes for a body, judged from the
 * outside: size, UTF-8, JSON, batch bounds, then each event's rules.
 */
function expectedStatus(body: Buffer): number {
  if (body.length > MAX_BODY_BYTES) return 413;
  if (!isUtf8(body)) return 400;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return 400;
  }
  const items: unknown[] = Array.isArray(value) ? value : [value];
  if (items.length === 0) return 400;
  if (items.length > Limits.maxBatchEvents) return 413;
  const results = items.map((item) => validateIngestEvent(item, rules, Date.now()));
  const failures = results.filter((result) => !result.ok);
  if (failures.length === 0) return 202;
  return failures.some((result) => !result.ok && result.tooLarge === true) ? 413 : 400;
}

/** Posts a body and checks the answer's shape; returns the status. */
async function postAndCheck(body: Buffer): Promise<number> {
  const response = await fetch(`${stack.edges[0]?.url}/v1/events`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stack.env.INGEST_TOKEN}`,
      'content-type': 'application/json',
    },
    body,
    signal: AbortSignal.timeout(5000),
  });
  const text = await response.text();
  statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  expect(response.status).toBeLessThan(500);
  expect(response.headers.get('content-type')).toBe('application/json');
  const answer = JSON.parse(text) as Record<string, unknown>;
  if (response.status === 202) {
    const value = JSON.parse(body.toString('utf8')) as unknown;
    const items = (Array.isArray(value) ? value : [value]) as Array<Record<string, unknown>>;
    expect(answer).toEqual({ accepted: items.length });
    for (const item of items)
      if (item.userId === fuzzUser) acceptedForFuzzUser.push(String(item.id));
  } else {
    expect(typeof answer.error).toBe('string');
    const detail = answer.errors ?? answer.message;
    expect(detail).toBeDefined();
    if (Array.isArray(answer.errors)) {
      for (const error of answer.errors as Array<{ index: unknown; message: unknown }>) {
        expect(Number.isInteger(error.index)).toBe(true);
        expect(typeof error.message).toBe('string');
      }
    }
  }
  return response.status;
}

let idCounter = 0;
/** Valid ids are unique (a repeated id would be accepted and deduplicated, not re-delivered). */
const uniqueId = fc.string({ maxLength: 20 }).map((suffix) => `fz-${++idCounter}-${suffix}`);

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
/** Mostly `good`, sometimes (1 in 40) `bad`: a batch of a few events is still often valid. */
const mostly = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 39, arbitrary: good }, { weight: 1, arbitrary: bad });

const randomEvent = fc.record(
  {
    id: mostly(uniqueId, fc.constantFrom(undefined, '', 'i'.repeat(129), 7, null, true)),
    userId: mostly(
      fc.oneof(
        { weight: 8, arbitrary: fc.constant('__fuzz_user__') },
        { weight: 1, arbitrary: fc.constantFrom('other-user', 'a@b.c', 'x:y') },
      ),
      fc.oneof(
        fc.constantFrom(undefined, '', 'bad user', 'ü', 'u'.repeat(129), 42, null),
        fc.string({ maxLength: 10 }),
      ),
    ),
    name: mostly(
      fc.oneof(
        fc.constantFrom(...DEFAULT_CRITICAL_EVENTS, 'token_delta'),
        fc.string({ minLength: 1, maxLength: 64 }),
      ),
      fc.constantFrom(undefined, '', 'n'.repeat(65), 3, null),
    ),
    critical: maybe(mostly(fc.boolean(), fc.constantFrom('yes', null, 1))),
    runId: maybe(mostly(fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom('', 9))),
    threadId: maybe(mostly(fc.string({ minLength: 1, maxLength: 20 }), fc.constant(''))),
    data: maybe(
      mostly(
        fc.jsonValue({ maxDepth: 4 }),
        fc.constantFrom(nested(Limits.maxJsonDepth + 1), 'é'.repeat(MAX_EVENT_BYTES / 2)),
      ),
    ),
    extra: maybe(fc.jsonValue({ maxDepth: 2 })),
  },
  // Required here; `undefined` among the bad values leaves them out of the JSON.
  { requiredKeys: ['id', 'userId', 'name'] },
);

const randomRequest = fc
  .oneof(
    { weight: 3, arbitrary: randomEvent },
    { weight: 3, arbitrary: fc.array(randomEvent, { maxLength: 6 }) },
    { weight: 1, arbitrary: fc.array(randomEvent, { minLength: 150, maxLength: 200 }) },
  )
  // The user id is only known once the stack runs.
  .map((request) => JSON.stringify(request).replaceAll('__fuzz_user__', fuzzUser));

function nested(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('POST /v1/events under fuzzing', () => {
  it('answers random event-like requests exactly as the contract says, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(randomRequest, async (text) => {
        const body = Buffer.from(text);
        expect(await postAndCheck(body)).toBe(expectedStatus(body));
      }),
      { numRuns: RUNS },
    );
  });

  it('answers random JSON values with a JSON 4xx (or 202 if one happens to be valid)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const body = Buffer.from(JSON.stringify(value) ?? 'null');
        expect(await postAndCheck(body)).toBe(expectedStatus(body));
      }),
      { numRuns: RUNS / 2 },
    );
  });

  it('answers random bytes and random text with a JSON 4xx', async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 512 }).map((array) => Buffer.from(array)),
      fc.string({ unit: 'binary', maxLength: 256 }).map((text) => Buffer.from(text)),
      fc
        .uint8Array({ minLength: MAX_BODY_BYTES - 8, maxLength: MAX_BODY_BYTES + 8 })
        .map((a) => Buffer.from(a)),
    );
    await fc.assert(
      fc.asyncProperty(bytes, async (body) => {
        expect(await postAndCheck(body)).toBe(expectedStatus(body));
      }),
      { numRuns: RUNS / 2 },
    );
  });

  it('delivered exactly the accepted events, in order, and is still healthy', async () => {
    // The fuzzing reached every answer the contract has for bad input.
    expect([...statuses.keys()].sort()).toEqual([202, 400, 413]);
    expect(acceptedForFuzzUser.length).toBeGreaterThan(RUNS / 4);
    const marker = ingestEvent(fuzzUser, { id: `marker-${fuzzUser}` });
    await ingestOk(stack, marker);
    await listener.waitFor((frame) => frame.id === marker.id, 10_000);
    const events = listener.events().filter((frame) => frame.id !== marker.id);
    expect(events.map((frame) => frame.id)).toEqual(acceptedForFuzzUser);
    const seqs = events.filter((frame) => frame.critical === true).map((frame) => frame.seq);
    expect(seqs).toEqual(range(1, seqs.length));
    expect(listener.closeState).toBeUndefined();
    expect((await fetch(`${stack.edges[0]?.url}/healthz`)).status).toBe(200);
    expect(stack.edges[0]?.isRunning()).toBe(true);
  });
});
