import { startStack, TestWsClient, waitUntil, type Stack } from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bystander } from './support/hostile-bystander.js';
import { connectUser, uniqueUser } from './support/edge-test-kit.js';
import { Opcode, RawWsSocket, readMetric, wsFrame } from './support/hostile-raw-socket.js';

/** Large enough for 100 000 levels of object nesting (500 000 bytes) to reach the decoder. */
const MAX_PAYLOAD = 1_048_576;
/** uWS still delivers frames up to this size, so the edge answers 4009 itself. */
const UWS_PAYLOAD_LIMIT = MAX_PAYLOAD + 64 * 1024;
const HELLO_TIMEOUT_MS = 1500;
const DEPTH = 100_000;

let stack: Stack;
let bystander: Bystander;

beforeAll(async () => {
  stack = await startStack({
    env: { MAX_PAYLOAD: String(MAX_PAYLOAD), HELLO_TIMEOUT_MS: String(HELLO_TIMEOUT_MS) },
  });
  bystander = await Bystander.connect(stack);
}, 60_000);

afterAll(async () => {
  // The bystander saw every event of every test, in order, and was never closed.
  await bystander?.expectAllDelivered();
  await bystander?.close();
  await stack?.stop();
});

const edge = () => stack.edges[0] ?? expect.fail('no edge');

/** Runs an attack while the bystander publishes and receives, then checks it once more. */
async function whileBystanding<T>(attack: () => Promise<T>): Promise<T> {
  const [result] = await Promise.all([attack(), bystander.roundTrip()]);
  await bystander.roundTrip();
  return result;
}

async function welcomed(): Promise<TestWsClient> {
  return (await connectUser(stack, uniqueUser('hostile'))).client;
}

const deepArray = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;
const deepObject = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;

describe('invalid UTF-8 in a text frame', () => {
  it('is dropped by uWS at the TCP level (no close frame; the client sees 1006), before hello and after welcome', async () => {
    await whileBystanding(async () => {
      const raw = await RawWsSocket.open(edge().port);
      raw.write(wsFrame(Opcode.text, Buffer.from([0x7b, 0xc3, 0x28, 0xff, 0x7d])));
      const end = await raw.ended;
      expect(end.closeFrame).toBeUndefined();
      expect(end.texts).toEqual([]);

      const client = await welcomed();
      // `ws` sends a Buffer marked as text without validating it.
      client.sendRaw(Buffer.from('{"type":"ack","seq":0,"x":"\xff\xfe"}', 'latin1'), false);
      expect((await client.closed).code).toBe(1006);
    });
  });

  it('accepts well-formed multi-byte UTF-8', async () => {
    const client = await welcomed();
    client.sendRaw(JSON.stringify({ type: 'ack', seq: 0, note: 'é😀中' }));
    await bystander.roundTrip();
    expect(client.closeState).toBeUndefined();
    await client.close();
  });
});

describe('binary and non-data frames', () => {
  it('closes a binary frame before hello 4001 (not a hello) and after welcome 4400', async () => {
    await whileBystanding(async () => {
      const early = await TestWsClient.connect(edge().wsUrl);
      early.sendRaw(Buffer.from([0, 1, 2, 3]), true);
      const late = await welcomed();
      late.sendRaw(Buffer.from('{"type":"ack","seq":0}'), true);
      expect((await early.closed).code).toBe(4001);
      expect((await late.closed).code).toBe(4400);
    });
  });

  it('drops the connection on a reserved opcode or on garbage instead of a frame', async () => {
    await whileBystanding(async () => {
      const reserved = await RawWsSocket.open(edge().port);
      reserved.write(wsFrame(3, 'x'));
      const garbage = await RawWsSocket.open(edge().port);
      // 'G' = 0x47: RSV1 set without a negotiated extension.
      garbage.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      const random = await RawWsSocket.open(edge().port);
      random.write(Buffer.alloc(64, 0xff));
      for (const socket of [reserved, garbage, random]) {
        expect((await socket.ended).closeFrame).toBeUndefined();
      }
    });
  });

  it('cannot get a frame through unmasked: the hello timeout closes the socket with 4001', async () => {
    await whileBystanding(async () => {
      const raw = await RawWsSocket.open(edge().port);
      const token = await stack.token(uniqueUser('unmasked'));
      raw.write(wsFrame(Opcode.text, JSON.stringify({ type: 'hello', token }), { mask: false }));
      const end = await raw.ended;
      // uWS does not reject unmasked frames; it never sees a hello either.
      expect(end.texts.some((text) => text.includes('"welcome"'))).toBe(false);
      expect(end.closeFrame?.code).toBe(4001);
    });
  });
});

describe('deep and huge JSON', () => {
  it('survives 100 000 levels of nesting in every state without a crash', async () => {
    await whileBystanding(async () => {
      // Before hello: not a hello at all (4001).
      const early = await TestWsClient.connect(edge().wsUrl);
      early.sendRaw(deepArray);
      // A hello carrying a deep unknown field: the field is ignored, the hello works.
      const user = uniqueUser('deephello');
      const helloed = await TestWsClient.connect(edge().wsUrl);
      const token = await stack.token(user);
      helloed.sendRaw(`{"type":"hello","token":"${token}","extra":${deepObject}}`);
      const welcome = await helloed.waitFor('welcome');
      expect(welcome.userId).toBe(user);
      // After welcome: a non-object frame, and publish data nested too deep (4400).
      const late = await welcomed();
      late.sendRaw(deepArray);
      const publisher = await welcomed();
      publisher.sendRaw(`{"type":"publish","id":"deep-1","data":${deepObject}}`);
      // Unterminated nesting is not JSON.
      const unterminated = await welcomed();
      unterminated.sendRaw('['.repeat(DEPTH));
      expect((await early.closed).code).toBe(4001);
      expect((await late.closed).code).toBe(4400);
      expect((await publisher.closed).code).toBe(4400);
      expect((await unterminated.closed).code).toBe(4400);
      expect(helloed.closeState).toBeUndefined();
      await helloed.close();
    });
    expect((await fetch(`${edge().url}/healthz`)).status).toBe(200);
  });

  it('takes a frame of exactly MAX_PAYLOAD bytes, closes 4009 one byte above', async () => {
    const frameOf = (bytes: number) => {
      const head = '{"type":"ack","seq":0,"pad":"';
      return `${head}${'p'.repeat(bytes - head.length - 2)}"}`;
    };
    expect(Buffer.byteLength(frameOf(MAX_PAYLOAD))).toBe(MAX_PAYLOAD);
    await whileBystanding(async () => {
      const fits = await welcomed();
      fits.sendRaw(frameOf(MAX_PAYLOAD));
      const over = await welcomed();
      over.sendRaw(frameOf(MAX_PAYLOAD + 1));
      const earlyOver = await TestWsClient.connect(edge().wsUrl);
      earlyOver.sendRaw(frameOf(MAX_PAYLOAD + 1));
      expect((await over.closed).code).toBe(4009);
      expect((await earlyOver.closed).code).toBe(4009);
      // The exact-size ack was processed and the socket stays open.
      await bystander.roundTrip();
      expect(fits.closeState).toBeUndefined();
      await fits.close();
    });
  });

  it('lets uWS drop a frame above MAX_PAYLOAD + 64 KiB (1006 at the client)', async () => {
    await whileBystanding(async () => {
      const client = await welcomed();
      client.sendRaw('x'.repeat(UWS_PAYLOAD_LIMIT + 1));
      expect((await client.closed).code).toBe(1006);
      const early = await TestWsClient.connect(edge().wsUrl);
      early.sendRaw('x'.repeat(4 * MAX_PAYLOAD));
      expect((await early.closed).code).toBe(1006);
    });
  });
});

describe('frames out of protocol', () => {
  it('closes 4001 on anything but a hello first', async () => {
    await whileBystanding(async () => {
      const frames = [
        '{"type":"ack","seq":1}',
        '{"type":"publish","id":"p","data":1}',
        '{"type":"subscribe"}',
        '"hello"',
        'null',
        '',
        'garbage',
      ];
      const clients = await Promise.all(frames.map(() => TestWsClient.connect(edge().wsUrl)));
      clients.forEach((client, i) => client.sendRaw(frames[i] ?? ''));
      const codes = await Promise.all(clients.map(async (client) => (await client.closed).code));
      expect(codes).toEqual(frames.map(() => 4001));
    });
  });

  it('closes 4400 on unknown types and malformed frames after welcome', async () => {
    await whileBystanding(async () => {
      const frames = [
        '{"type":"subscribe","channel":"all"}',
        '{"type":"welcome"}',
        '{"type":7}',
        '{}',
        '[]',
        '{"type":"ack","seq":-1}',
        '{"type":"ack","seq":"1"}',
        '{"type":',
      ];
      const clients = await Promise.all(frames.map(() => welcomed()));
      clients.forEach((client, i) => client.sendRaw(frames[i] ?? ''));
      const codes = await Promise.all(clients.map(async (client) => (await client.closed).code));
      expect(codes).toEqual(frames.map(() => 4400));
    });
  });

  it('closes 4400 on a second hello, after welcome and while the first is still opening', async () => {
    await whileBystanding(async () => {
      const user = uniqueUser('twice');
      const token = await stack.token(user);
      const after = await welcomed();
      after.send({ type: 'hello', token: await stack.token(uniqueUser('again')) });
      const racing = await TestWsClient.connect(edge().wsUrl);
      racing.send({ type: 'hello', token });
      racing.send({ type: 'hello', token });
      expect((await after.closed).code).toBe(4400);
      expect((await racing.closed).code).toBe(4400);
    });
  });
});

describe('after all of it', () => {
  it('has no connection left over and still answers', async () => {
    // Only the bystander is connected (close callbacks may still be running).
    await waitUntil(async () => (await readMetric(edge().url, 'aw_edge_connections')) === 1, 3000);
    expect((await fetch(`${edge().url}/healthz`)).status).toBe(200);
    expect((await fetch(`${edge().url}/readyz`)).status).toBe(200);
  });
});
