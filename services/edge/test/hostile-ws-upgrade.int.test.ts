import {
  startStack,
  TestWsClient,
  waitUntil,
  WsUpgradeError,
  type Stack,
} from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bystander } from './support/hostile-bystander.js';
import { uniqueUser } from './support/edge-test-kit.js';
import { rawHttp, readMetric, upgradeRequestHead } from './support/hostile-raw-socket.js';

const HELLO_TIMEOUT_MS = 1000;
const ALLOWED_ORIGIN = 'https://app.example';

let stack: Stack;
let bystander: Bystander;

beforeAll(async () => {
  stack = await startStack({
    env: { HELLO_TIMEOUT_MS: String(HELLO_TIMEOUT_MS), ALLOWED_ORIGINS: ALLOWED_ORIGIN },
  });
  bystander = await Bystander.connect(stack);
}, 60_000);

afterAll(async () => {
  await bystander?.expectAllDelivered();
  await bystander?.close();
  await stack?.stop();
});

const edge = () => stack.edges[0] ?? expect.fail('no edge');

/** Sends a hand-made handshake and returns the HTTP answer. */
function handshake(options: Parameters<typeof upgradeRequestHead>[0]) {
  return rawHttp(edge().port, upgradeRequestHead(options));
}

describe('malformed opening handshakes', () => {
  it('answers 400 without a usable Sec-WebSocket-Key', async () => {
    const answers = await Promise.all([
      handshake({ headers: { 'sec-websocket-key': undefined } }),
      handshake({ headers: { 'sec-websocket-key': 'short' } }),
      // Right length, so uWS hands it over; not base64 of 16 bytes.
      handshake({ headers: { 'sec-websocket-key': '!!!!!!!!!!!!!!!!!!!!!!!!' } }),
    ]);
    await bystander.roundTrip();
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'bad_request' });
    }
  });

  it('answers 426 with Sec-WebSocket-Version: 13 to another version or none', async () => {
    const answers = await Promise.all([
      handshake({ headers: { 'sec-websocket-version': '12' } }),
      handshake({ headers: { 'sec-websocket-version': '8' } }),
      handshake({ headers: { 'sec-websocket-version': undefined } }),
    ]);
    await bystander.roundTrip();
    for (const answer of answers) {
      expect(answer.status).toBe(426);
      expect(answer.headers['sec-websocket-version']).toBe('13');
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'bad_request' });
    }
  });

  it('answers 426 to a GET without Upgrade: websocket, and to a plain GET', async () => {
    const noUpgrade = await handshake({ headers: { upgrade: undefined, connection: undefined } });
    const otherUpgrade = await handshake({ headers: { upgrade: 'h2c' } });
    const plain = await fetch(`${edge().url}/v1/ws`);
    await bystander.roundTrip();
    expect(noUpgrade.status).toBe(426);
    expect(noUpgrade.headers.upgrade).toBe('websocket');
    expect(otherUpgrade.status).toBe(426);
    expect(plain.status).toBe(426);
    expect(await plain.json()).toMatchObject({ error: 'bad_request' });
  });

  it('answers 405 (Allow: GET) to other methods on the WebSocket path', async () => {
    const answers = await Promise.all(
      ['POST', 'PUT', 'DELETE', 'PATCH'].map((method) =>
        handshake({ method, headers: { 'content-length': '0' } }),
      ),
    );
    await bystander.roundTrip();
    for (const answer of answers) {
      expect(answer.status).toBe(405);
      expect(answer.headers.allow).toBe('GET');
    }
  });

  it('answers 404 to a handshake on another path', async () => {
    const answers = await Promise.all(
      ['/v1/wsx', '/v1/ws/extra', '/ws', '/v2/ws', '/'].map((path) => handshake({ path })),
    );
    await bystander.roundTrip();
    for (const answer of answers) {
      expect(answer.status).toBe(404);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'not_found' });
    }
  });

  it('answers 403 to an Origin not in ALLOWED_ORIGINS, and upgrades a listed or absent one', async () => {
    const refused = await TestWsClient.connect(edge().wsUrl, {
      origin: 'https://evil.example',
    }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WsUpgradeError);
    expect((refused as WsUpgradeError).statusCode).toBe(403);
    const lookalike = await handshake({ headers: { origin: `${ALLOWED_ORIGIN}.evil.example` } });
    expect(lookalike.status).toBe(403);
    const listed = await TestWsClient.connect(edge().wsUrl, { origin: ALLOWED_ORIGIN });
    const user = uniqueUser('origin');
    expect((await listed.hello(await stack.token(user))).userId).toBe(user);
    await bystander.roundTrip();
    await listed.close();
  });

  it('answers 401 to an Authorization header that is not a valid bearer JWT', async () => {
    const answers = await Promise.all([
      handshake({ headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
      handshake({ headers: { authorization: 'Bearer ' } }),
      handshake({ headers: { authorization: `Bearer ${'x'.repeat(10_000)}` } }),
    ]);
    await bystander.roundTrip();
    for (const answer of answers) expect(answer.status).toBe(401);
  });
});

describe('connections that never say hello', () => {
  it('closes every silent one with 4001 and leaks nothing when many are dropped', async () => {
    const baseline = await readMetric(edge().url, 'aw_edge_connections');
    const closed4001Before = await readMetric(
      edge().url,
      'aw_edge_disconnects_total',
      'code="4001"',
    );
    const sockets = await Promise.all(
      Array.from({ length: 200 }, () => TestWsClient.connect(edge().wsUrl)),
    );
    const dropped = sockets.slice(0, 100);
    const silent = sockets.slice(100);
    await Promise.all(dropped.map((socket) => socket.terminate()));
    await bystander.roundTrip();
    const started = Date.now();
    const codes = await Promise.all(silent.map(async (socket) => (await socket.closed).code));
    expect(codes).toEqual(silent.map(() => 4001));
    expect(Date.now() - started).toBeLessThan(HELLO_TIMEOUT_MS + 2000);
    await waitUntil(
      async () => (await readMetric(edge().url, 'aw_edge_connections')) === baseline,
      3000,
    );
    expect(
      (await readMetric(edge().url, 'aw_edge_disconnects_total', 'code="4001"')) - closed4001Before,
    ).toBe(100);
    await bystander.roundTrip();
  });
});
