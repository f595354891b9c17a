import { startStack, TestWsClient, type Stack } from '@agentwire/testing';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bystander } from './support/hostile-bystander.js';
import { connectUser, ingestEvent, range, seqsOf, uniqueUser } from './support/edge-test-kit.js';
import { ingestRequestHead, rawHttp, readMetric } from './support/hostile-raw-socket.js';

const BODY_TIMEOUT_MS = 1500;
const MAX_BODY_BYTES = 16_384;

let stack: Stack;
let bystander: Bystander;

beforeAll(async () => {
  stack = await startStack({
    env: {
      INGEST_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS),
      INGEST_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    },
  });
  bystander = await Bystander.connect(stack);
}, 60_000);

afterAll(async () => {
  await bystander?.expectAllDelivered();
  await bystander?.close();
  await stack?.stop();
});

const edge = () => stack.edges[0] ?? expect.fail('no edge');
const token = () => stack.env.INGEST_TOKEN ?? '';

function post(body: string | Uint8Array, headers: Record<string, string> = {}) {
  return fetch(`${edge().url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token()}`, ...headers },
    body,
    signal: AbortSignal.timeout(5000),
  });
}

describe('slow request bodies', () => {
  it('answers 408 and closes trickled and stalled bodies while everything else is served', async () => {
    const timeouts408Before = await readMetric(
      edge().url,
      'aw_edge_ingest_requests_total',
      'status="408"',
    );
    const body = JSON.stringify(ingestEvent(uniqueUser('slow'))).padEnd(1000, ' ');
    // A few bytes every 200 ms: uWS's idle timeout restarts on each packet, the deadline does not.
    const trickled = range(1, 10).map(() =>
      rawHttp(edge().port, ingestRequestHead(token(), { 'content-length': String(body.length) }), {
        trickle: { data: body, chunkBytes: 3, intervalMs: 200 },
        timeoutMs: 8000,
      }),
    );
    const chunked = range(1, 5).map(() =>
      rawHttp(edge().port, ingestRequestHead(token(), { 'transfer-encoding': 'chunked' }), {
        trickle: { data: '1\r\n \r\n'.repeat(200), chunkBytes: 6, intervalMs: 200 },
        timeoutMs: 8000,
      }),
    );
    // Announced 1000 bytes, sent 2, then nothing.
    const stalled = rawHttp(
      edge().port,
      `${ingestRequestHead(token(), { 'content-length': '1000' })}[{`,
      { timeoutMs: 8000 },
    );

    // Meanwhile: health, ingest and WebSocket delivery, and a fresh session.
    expect((await fetch(`${edge().url}/healthz`)).status).toBe(200);
    await bystander.roundTrip();
    const user = uniqueUser('meanwhile');
    const { client } = await connectUser(stack, user);
    await bystander.roundTrip();
    await client.close();

    const answers = await Promise.all([...trickled, ...chunked, stalled]);
    for (const answer of answers) {
      expect(answer.status).toBe(408);
      expect(answer.closedByServer).toBe(true);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'bad_request' });
      expect(answer.elapsedMs).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 100);
      expect(answer.elapsedMs).toBeLessThan(BODY_TIMEOUT_MS + 2000);
    }
    expect(
      (await readMetric(edge().url, 'aw_edge_ingest_requests_total', 'status="408"')) -
        timeouts408Before,
    ).toBe(answers.length);
    // Nothing of those bodies was appended: the bystander's seqs are still exact.
    await bystander.roundTrip();
  });
});

describe('request framing', () => {
  it('answers 413 to a Content-Length over the limit, at once, and closes', async () => {
    const answer = await rawHttp(
      edge().port,
      `${ingestRequestHead(token(), { 'content-length': '100000000' })}[]`,
    );
    expect(answer).toMatchObject({ status: 413, closedByServer: true });
    expect(answer.elapsedMs).toBeLessThan(1000);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'too_large' });
    await bystander.roundTrip();
  });

  it('is dropped by uWS (no answer) for a Content-Length it cannot parse or of 10+ digits', async () => {
    const answers = await Promise.all(
      ['1000000000', '99999999999999999999', '-1', 'abc', '0x10', '1e3'].map((length) =>
        rawHttp(edge().port, `${ingestRequestHead(token(), { 'content-length': length })}[]`),
      ),
    );
    for (const answer of answers) expect(answer).toMatchObject({ status: 0, closedByServer: true });
    await bystander.roundTrip();
  });

  it('answers 413 to a chunked body over the limit and closes', async () => {
    const chunk = 'x'.repeat(4096);
    const chunks = range(1, 6)
      .map(() => `${chunk.length.toString(16)}\r\n${chunk}\r\n`)
      .join('');
    const answer = await rawHttp(
      edge().port,
      `${ingestRequestHead(token(), { 'transfer-encoding': 'chunked' })}${chunks}0\r\n\r\n`,
    );
    expect(answer).toMatchObject({ status: 413, closedByServer: true });
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'too_large' });
    await bystander.roundTrip();
  });

  it('is dropped by uWS for broken chunk framing or Content-Length with chunked', async () => {
    const answers = await Promise.all([
      rawHttp(
        edge().port,
        `${ingestRequestHead(token(), { 'transfer-encoding': 'chunked' })}zz\r\n[]\r\n0\r\n\r\n`,
      ),
      rawHttp(
        edge().port,
        `${ingestRequestHead(token(), { 'transfer-encoding': 'chunked', 'content-length': '2' })}2\r\n[]\r\n0\r\n\r\n`,
      ),
      rawHttp(edge().port, `${ingestRequestHead(token(), { 'transfer-encoding': 'gzip' })}[]`),
    ]);
    for (const answer of answers) expect(answer).toMatchObject({ status: 0, closedByServer: true });
    await bystander.roundTrip();
  });
});

describe('body encodings', () => {
  it('reads the body as JSON whatever the Content-Type says', async () => {
    const user = uniqueUser('ctype');
    const { client } = await connectUser(stack, user);
    const types = [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/json; charset=utf-8',
    ];
    for (const type of types) {
      const response = await post(JSON.stringify(ingestEvent(user)), { 'content-type': type });
      expect(response.status).toBe(202);
    }
    // No Content-Type at all.
    expect((await post(new TextEncoder().encode(JSON.stringify(ingestEvent(user))))).status).toBe(
      202,
    );
    // A form body is not JSON.
    const form = await post('id=1&userId=u&name=n', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(400);
    expect(await form.json()).toMatchObject({ error: 'bad_request' });
    await client.waitForEvents(types.length + 1);
    expect(seqsOf(client)).toEqual(range(1, types.length + 1));
    await client.close();
    await bystander.roundTrip();
  });

  it('answers 415 to a content-coded body', async () => {
    const body = gzipSync(JSON.stringify(ingestEvent(bystander.userId)));
    for (const encoding of ['gzip', 'br', 'deflate, gzip']) {
      const response = await post(body, {
        'content-type': 'application/json',
        'content-encoding': encoding,
      });
      expect(response.status).toBe(415);
      expect(await response.json()).toMatchObject({ error: 'bad_request' });
    }
    expect(
      (
        await post(JSON.stringify(ingestEvent(uniqueUser('identity'))), {
          'content-encoding': 'identity',
        })
      ).status,
    ).toBe(202);
    // The gzipped event was the bystander's: not delivered.
    await bystander.roundTrip();
  });

  it('answers 400 to invalid UTF-8 and never delivers the event', async () => {
    const event = (data: string) =>
      `{"id":"utf8-${Math.random()}","userId":"${bystander.userId}","name":"tool_executing","data":"${data}"}`;
    const bodies = [
      ['\xff', 'a stray 0xff'],
      ['\xc0\xaf', 'an overlong encoding of /'],
      ['\xed\xa0\x80', 'an encoded UTF-16 surrogate'],
      ['\xe2\x82', 'a truncated sequence'],
    ].map(([bytes]) => Buffer.from(event(bytes ?? ''), 'latin1'));
    for (const body of bodies) {
      const response = await post(body, { 'content-type': 'application/json' });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: 'bad_request',
        message: 'body is not valid UTF-8',
      });
    }
    // Valid multi-byte text passes.
    const user = uniqueUser('utf8');
    const { client } = await connectUser(stack, user);
    expect((await post(JSON.stringify(ingestEvent(user, { data: 'é😀中' })))).status).toBe(202);
    expect((await client.waitForEvents(1))[0]?.data).toBe('é😀中');
    await client.close();
    await bystander.roundTrip();
  });
});

describe('after all of it', () => {
  it('still serves health, ingest and new sockets', async () => {
    expect((await fetch(`${edge().url}/healthz`)).status).toBe(200);
    expect((await fetch(`${edge().url}/readyz`)).status).toBe(200);
    const socket = await TestWsClient.connect(edge().wsUrl);
    await socket.hello(await stack.token(uniqueUser('after')));
    await socket.close();
    await bystander.roundTrip();
  });
});
