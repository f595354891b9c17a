import { request } from 'node:http';
import { decodeHttpBody } from '@agentwire/protocol';
import {
  SseRefusedError,
  startStack,
  TestSseClient,
  waitUntil,
  type Stack,
  type TestWsClient,
} from '@agentwire/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUser, ingestEvent, ingestOk, range, uniqueUser } from './support/edge-test-kit.js';

/**
 * Bad input on GET /v1/sse, POST /v1/ack, POST /v1/publish and GET
 * /v1/history: each gets its documented status and nothing else is
 * affected (a bystander's stream and socket lose nothing).
 */
const MAX_PAYLOAD = 1024;
const RUNS = 120;
/** Critical events of the fuzz user: acks up to this are valid. */
const LATEST = 3;
const HARD_BYTES = 4096;

let stack: Stack;
let user: string;
let token: string;
let bystander: string;
let bystanderSse: TestSseClient;
let bystanderWs: TestWsClient;
let bystanderEvents = 0;

beforeAll(async () => {
  stack = await startStack({
    env: {
      MAX_PAYLOAD: String(MAX_PAYLOAD),
      UPSTREAM_RATE_PER_SEC: '100000',
      // Streams are opened and dropped faster than their routes are released:
      // the per-user limit (tested in sse.int.test.ts) would refuse some here.
      MAX_CONNECTIONS_PER_USER: '0',
      // Small send buffers: history pages stop at SEND_BUFFER_HARD_BYTES of frames.
      SEND_BUFFER_SOFT_BYTES: '2048',
      SEND_BUFFER_HARD_BYTES: String(HARD_BYTES),
    },
  });
  user = uniqueUser('fuzz');
  token = await stack.token(user);
  bystander = uniqueUser('bystander');
  bystanderSse = await TestSseClient.open(`${stack.edges[0]!.url}/v1/sse`, {
    headers: { authorization: `Bearer ${await stack.token(bystander)}` },
  });
  bystanderWs = (await connectUser(stack, bystander)).client;
  await bystanderSse.waitFor((c) => c.messages.length >= 1);
  await ingestOk(
    stack,
    range(1, LATEST).map(() => ingestEvent(user)),
  );
}, 60_000);

afterAll(async () => {
  await bystanderSse?.close();
  await bystanderWs?.close();
  await stack?.stop();
});

/** Sends one event to the bystander now and then: it must receive every one. */
async function bystanderEvent(): Promise<void> {
  bystanderEvents++;
  await ingestOk(stack, ingestEvent(bystander));
}

function url(path: string): string {
  return `${stack.edges[0]!.url}${path}`;
}

/** One raw request; resolves with the status (the body is discarded; a stream is closed at once). */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url(path), { method, headers, timeout: 10_000 });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.on('response', (res) => {
      resolve(res.statusCode ?? 0);
      if (res.headers['content-type']?.startsWith('text/event-stream')) res.destroy();
      else res.resume();
    });
    req.end(body);
  });
}

const LAST_EVENT_ID = /^([A-Za-z0-9_-]{1,64}):(\d{1,16})$/;

function expectedSseStatus(lastEventId: string): number {
  const match = LAST_EVENT_ID.exec(lastEventId);
  return match !== null && Number.isSafeInteger(Number(match[2])) ? 200 : 400;
}

/** Printable ASCII without leading/trailing blanks (HTTP trims those), as a header value may carry. */
const headerText = fc
  .string({
    unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 80,
  })
  .filter((s) => s.length > 0);

describe('GET /v1/sse with bad input', () => {
  it('answers 400 to malformed positions and 401 to bad tokens', async () => {
    const auth = { authorization: `Bearer ${token}` };
    for (const id of ['x', ':5', 'abc:', 'abc:-1', 'abc:1.5', 'a b:1', 'abc:99999999999999999']) {
      expect(await raw('GET', '/v1/sse', { ...auth, 'last-event-id': id }), id).toBe(400);
    }
    for (const query of [
      'lastSeq=-1',
      'lastSeq=x',
      'lastSeq=',
      'epoch=abc',
      'lastSeq=1&epoch=a%20b',
    ]) {
      expect(await raw('GET', `/v1/sse?${query}`, auth), query).toBe(400);
    }
    const expired = await stack.token(user, { expiresInSec: -10 });
    const foreign = await stack.token(user, { secret: 'another-secret-0123456789abcdef0123' });
    const refused: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer nonsense' },
      { authorization: `Bearer ${expired}` },
      { authorization: `Bearer ${foreign}` },
      { authorization: `Basic ${token}` },
    ];
    for (const headers of refused) {
      expect(await raw('GET', '/v1/sse', headers)).toBe(401);
    }
    expect(await raw('GET', `/v1/sse?token=${foreign}`, {})).toBe(401);
    expect(await raw('GET', `/v1/sse?token=${token}`, {})).toBe(200);
  });

  it('fuzz: a random Last-Event-ID opens the stream or answers 400, nothing else', async () => {
    const candidate = fc.oneof(
      headerText,
      fc
        .tuple(headerText, fc.oneof(fc.nat().map(String), headerText))
        .map(([epoch, seq]) => `${epoch}:${seq}`),
    );
    await fc.assert(
      fc.asyncProperty(candidate, async (lastEventId) => {
        const status = await raw('GET', '/v1/sse', {
          authorization: `Bearer ${token}`,
          'last-event-id': lastEventId,
        });
        expect(status).toBe(expectedSseStatus(lastEventId));
      }),
      { numRuns: RUNS },
    );
    await bystanderEvent();
  });

  it('survives a client that opens and drops streams in a loop; the bystander loses nothing', async () => {
    const looper = uniqueUser('looper');
    const looperToken = await stack.token(looper);
    const baseline = 2; // the bystander's stream and socket
    for (let i = 0; i < 150; i++) {
      const stream = TestSseClient.open(url(`/v1/sse?lastSeq=0&token=${looperToken}`));
      if (i % 10 === 0) await bystanderEvent();
      // Half are dropped at once (often before the welcome), half after it.
      if (i % 2 === 0) {
        await stream.then(
          (s) => s.close(),
          (error: unknown) => {
            if (!(error instanceof SseRefusedError)) throw error;
          },
        );
      } else {
        const s = await stream;
        await s.waitFor((c) => c.messages.length >= 1);
        await s.close();
      }
    }
    const presence = async () => {
      const res = await fetch(url(`/v1/users/${looper}/presence`), {
        headers: { authorization: `Bearer ${stack.env.INGEST_TOKEN}` },
      });
      return ((await res.json()) as { connections: number }).connections;
    };
    await waitUntil(async () => (await presence()) === 0, 5000, 50, 'looper presence 0');
    await waitUntil(
      async () => {
        const text = await (await fetch(url('/metrics'))).text();
        const line = text.split('\n').find((l) => /^aw_edge_connections[{ ]/.test(l));
        return Number(line?.split(' ').at(-1)) === baseline;
      },
      5000,
      50,
      'connections gauge back to the bystanders',
    );
  });
});

describe('POST /v1/ack and /v1/publish, GET /v1/history under fuzzing', () => {
  const auth = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

  it('answers 413 to oversize bodies and 401 to bad tokens', async () => {
    const big = Buffer.from(JSON.stringify({ seq: 1, pad: 'x'.repeat(MAX_PAYLOAD) }));
    for (const path of ['/v1/ack', '/v1/publish']) {
      expect(await raw('POST', path, auth(), big), path).toBe(413);
      expect(await raw('POST', path, { authorization: 'Bearer nonsense' }, Buffer.from('{}'))).toBe(
        401,
      );
      expect(await raw('POST', path, {}, Buffer.from('{}'))).toBe(401);
    }
    expect(await raw('GET', '/v1/history', { authorization: 'Bearer nonsense' })).toBe(401);
    expect(await raw('POST', '/v1/ack', auth(), Buffer.from([0xff, 0xfe]))).toBe(400);
  });

  it('fuzz: ack bodies get 204 or 400 by the rules, oversize 413', async () => {
    const body = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
      fc
        .record({ seq: fc.oneof(fc.integer({ min: -5, max: LATEST + 5 }), fc.double()) })
        .map((v) => JSON.stringify(v)),
      fc.string({ maxLength: MAX_PAYLOAD + 64 }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const bytes = Buffer.from(text);
        const decoded = decodeHttpBody('ack', text);
        const expected =
          bytes.length > MAX_PAYLOAD
            ? 413
            : decoded.ok && decoded.frame.type === 'ack' && decoded.frame.seq <= LATEST
              ? 204
              : 400;
        expect(await raw('POST', '/v1/ack', auth(), bytes)).toBe(expected);
      }),
      { numRuns: RUNS },
    );
    await bystanderEvent();
  });

  it('fuzz: publish bodies get 202 or 400 by the rules of the publish frame, oversize 413', async () => {
    const body = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
      fc
        .record(
          {
            id: fc.string({ maxLength: 140 }),
            threadId: fc.string({ maxLength: 4 }),
            data: fc.jsonValue(),
          },
          { requiredKeys: ['id'] },
        )
        .map((v) => JSON.stringify(v)),
      fc.string({ maxLength: MAX_PAYLOAD + 64 }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const bytes = Buffer.from(text);
        const expected =
          bytes.length > MAX_PAYLOAD ? 413 : decodeHttpBody('publish', text).ok ? 202 : 400;
        expect(await raw('POST', '/v1/publish', auth(), bytes)).toBe(expected);
      }),
      { numRuns: RUNS },
    );
    await bystanderEvent();
  });

  it('fuzz: history queries get 200 or 400, nothing else', async () => {
    const value = fc.oneof(fc.nat().map(String), headerText, fc.constant(''));
    const query = fc.record({ after: value, limit: value, epoch: value }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(query, async (params) => {
        const search = new URLSearchParams(params as Record<string, string>).toString();
        const status = await raw('GET', `/v1/history?${search}`, auth());
        const int = (v: string | undefined, fallback: number) =>
          v === undefined ? fallback : /^\d{1,16}$/.test(v) ? Number(v) : Number.NaN;
        const after = int(params.after, 0);
        const limit = int(params.limit, 100);
        const valid =
          Number.isSafeInteger(after) &&
          limit >= 1 &&
          limit <= 1000 &&
          (params.epoch === undefined || /^[A-Za-z0-9_-]{1,64}$/.test(params.epoch));
        expect(status).toBe(valid ? 200 : 400);
      }),
      { numRuns: RUNS },
    );
    await bystanderEvent();
  });

  it('ends a history page at SEND_BUFFER_HARD_BYTES of frames; paging still gets every event', async () => {
    const heavy = uniqueUser('heavy');
    const heavyToken = await stack.token(heavy);
    const pad = 'h'.repeat(1000);
    await ingestOk(
      stack,
      range(1, 10).map(() => ingestEvent(heavy, { data: pad })),
    );
    const page = async (after: number) => {
      const res = await fetch(url(`/v1/history?after=${after}&limit=1000`), {
        headers: { authorization: `Bearer ${heavyToken}` },
      });
      return (await res.json()) as { latestSeq: number; events: Array<{ seq: number }> };
    };
    await waitUntil(async () => (await page(0)).latestSeq === 10, 5000, 50, 'latestSeq 10');
    const first = await page(0);
    expect(first.events.length).toBeGreaterThan(0);
    expect(first.events.length).toBeLessThan(10);
    expect(JSON.stringify(first.events).length).toBeLessThan(HARD_BYTES + 1200);
    const seqs = first.events.map((e) => e.seq);
    while (seqs.length < 10) {
      const next = await page(seqs.at(-1) as number);
      expect(next.events.length).toBeGreaterThan(0);
      seqs.push(...next.events.map((e) => e.seq));
    }
    expect(seqs).toEqual(range(1, 10));
  });

  it('the bystander received every one of its events on both transports, once', async () => {
    await bystanderSse.waitForCritical(bystanderEvents);
    await bystanderWs.waitForEvents(bystanderEvents);
    expect(bystanderSse.seqs()).toEqual(range(1, bystanderEvents));
    expect(
      bystanderWs
        .events()
        .filter((e) => e.critical === true)
        .map((e) => e.seq),
    ).toEqual(range(1, bystanderEvents));
    expect(bystanderSse.isEnded).toBe(false);
  });
});
