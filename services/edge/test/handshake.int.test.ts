import {
  signToken,
  startStack,
  TestWsClient,
  WsUpgradeError,
  type ServiceProcess,
  type Stack,
} from '@agentwire/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectUser, ingestEvent, ingestOk, uniqueUser } from './support/edge-test-kit.js';

const HELLO_TIMEOUT_MS = 800;
const MAX_PAYLOAD = 65536;

let stack: Stack;
/** A second edge with small limits: 2 sockets, one allowed origin, 300 ms heartbeats. */
let limited: ServiceProcess;

beforeAll(async () => {
  stack = await startStack({ env: { HELLO_TIMEOUT_MS: String(HELLO_TIMEOUT_MS) } });
  limited = await stack.startEdge({
    MAX_CONNECTIONS: '2',
    ALLOWED_ORIGINS: 'https://app.example',
    HEARTBEAT_MS: '300',
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function open(url = stack.edges[0]?.wsUrl ?? ''): Promise<TestWsClient> {
  return TestWsClient.connect(url);
}

describe('hello and authentication', () => {
  it('welcomes a valid hello with exactly the contract fields', async () => {
    const user = uniqueUser('welcome');
    const { client, welcome } = await connectUser(stack, user);
    expect(Object.keys(welcome).sort()).toEqual(
      [
        'type',
        'connectionId',
        'node',
        'userId',
        'epoch',
        'latestSeq',
        'oldestSeq',
        'resumed',
        'heartbeatMs',
        'maxPayload',
      ].sort(),
    );
    expect(welcome).toMatchObject({
      node: 'edge-0',
      userId: user,
      latestSeq: 0,
      oldestSeq: 0,
      resumed: true,
      heartbeatMs: 25000,
      maxPayload: MAX_PAYLOAD,
    });
    expect(typeof welcome.epoch).toBe('string');
    await client.close();
  });

  it('closes 4001 on a token signed with another secret', async () => {
    const client = await open();
    const token = await stack.token(uniqueUser('badsig'), { secret: 'another-secret-0123456789' });
    client.send({ type: 'hello', token });
    expect((await client.closed).code).toBe(4001);
  });

  it('closes 4001 on an expired token', async () => {
    const client = await open();
    client.send({
      type: 'hello',
      token: await stack.token(uniqueUser('expired'), { expiresInSec: -60 }),
    });
    expect((await client.closed).code).toBe(4001);
  });

  it('closes 4001 on a token whose sub is not a valid user id', async () => {
    const client = await open();
    const token = await signToken({ sub: 'has space', secret: stack.env.JWT_SECRET ?? '' });
    client.send({ type: 'hello', token });
    expect((await client.closed).code).toBe(4001);
  });

  it('closes 4001 on a hello without any token', async () => {
    const client = await open();
    client.send({ type: 'hello' });
    expect((await client.closed).code).toBe(4001);
  });

  it('closes 4001 when no hello arrives within HELLO_TIMEOUT_MS', async () => {
    const client = await open();
    const started = Date.now();
    expect((await client.closed).code).toBe(4001);
    expect(Date.now() - started).toBeGreaterThanOrEqual(HELLO_TIMEOUT_MS - 100);
  });

  it('closes 4001 when the first frame is not a hello (an ack, or not JSON)', async () => {
    const ack = await open();
    ack.send({ type: 'ack', seq: 1 });
    const garbage = await open();
    garbage.sendRaw('not json');
    expect((await ack.closed).code).toBe(4001);
    expect((await garbage.closed).code).toBe(4001);
  });

  it.each([
    ['a negative lastSeq', { lastSeq: -1 }],
    ['a fractional lastSeq', { lastSeq: 1.5 }],
    ['a non-string epoch', { lastSeq: 1, epoch: 7 }],
  ])('closes 4400 on a hello with %s', async (_label, fields) => {
    const client = await open();
    client.send({ type: 'hello', token: await stack.token(uniqueUser('malformed')), ...fields });
    expect((await client.closed).code).toBe(4400);
  });

  it('closes 4400 on a second hello', async () => {
    const user = uniqueUser('twice');
    const { client } = await connectUser(stack, user);
    client.send({ type: 'hello', token: await stack.token(user) });
    expect((await client.closed).code).toBe(4400);
  });

  it('closes 4400 on a malformed frame or an unknown type after welcome', async () => {
    const a = await connectUser(stack, uniqueUser('garbage'));
    a.client.sendRaw('{"type":');
    const b = await connectUser(stack, uniqueUser('unknown'));
    b.client.send({ type: 'subscribe', channel: 'x' });
    expect((await a.client.closed).code).toBe(4400);
    expect((await b.client.closed).code).toBe(4400);
  });

  it('closes 4400 on a binary frame', async () => {
    const { client } = await connectUser(stack, uniqueUser('binary'));
    client.sendRaw(Buffer.from('{"type":"ack","seq":0}'), true);
    expect((await client.closed).code).toBe(4400);
  });

  it('closes 4009 on a frame larger than maxPayload, before and after welcome', async () => {
    const early = await open();
    early.sendRaw('x'.repeat(MAX_PAYLOAD + 1));
    const { client } = await connectUser(stack, uniqueUser('oversize'));
    client.sendRaw(JSON.stringify({ type: 'ack', seq: 0, pad: 'p'.repeat(MAX_PAYLOAD) }));
    expect((await early.closed).code).toBe(4009);
    expect((await client.closed).code).toBe(4009);
  });
});

describe('Authorization on upgrade', () => {
  it('refuses a bad bearer token with HTTP 401 before the upgrade', async () => {
    const refused = await TestWsClient.connect(stack.edges[0]?.wsUrl ?? '', {
      headers: { authorization: 'Bearer not-a-jwt' },
    }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WsUpgradeError);
    expect((refused as WsUpgradeError).statusCode).toBe(401);
  });

  it('accepts a hello without token after a valid upgrade token', async () => {
    const user = uniqueUser('preauth');
    const client = await TestWsClient.connect(stack.edges[0]?.wsUrl ?? '', {
      headers: { authorization: `Bearer ${await stack.token(user)}` },
    });
    const welcome = await client.hello(undefined, { lastSeq: 0 });
    expect(welcome.userId).toBe(user);
    await client.close();
  });

  it('closes 4001 when the hello token names another user than the upgrade token', async () => {
    const client = await TestWsClient.connect(stack.edges[0]?.wsUrl ?? '', {
      headers: { authorization: `Bearer ${await stack.token(uniqueUser('first'))}` },
    });
    client.send({ type: 'hello', token: await stack.token(uniqueUser('second')) });
    expect((await client.closed).code).toBe(4001);
  });
});

describe('acks', () => {
  it('ignores lower and repeated acks and closes 4400 on an ack above the delivered seq', async () => {
    const user = uniqueUser('ack');
    await ingestOk(stack, [ingestEvent(user), ingestEvent(user)]);
    const { client } = await connectUser(stack, user, { lastSeq: 0 });
    await client.waitForEvents(2);
    client.send({ type: 'ack', seq: 2 });
    client.send({ type: 'ack', seq: 1 });
    client.send({ type: 'ack', seq: 2 });
    // Still open: a new event arrives after those acks.
    await ingestOk(stack, ingestEvent(user));
    await client.waitForEvents(3);
    client.send({ type: 'ack', seq: 4 });
    const closed = await client.closed;
    expect(closed.code).toBe(4400);
  });

  it('accepts an ack up to the hello lastSeq even above latestSeq', async () => {
    const user = uniqueUser('ackhello');
    const { client, welcome } = await connectUser(stack, user, { lastSeq: 10 });
    expect(welcome).toMatchObject({ latestSeq: 0, resumed: false });
    client.send({ type: 'ack', seq: 10 });
    await ingestOk(stack, ingestEvent(user));
    const [event] = await client.waitForEvents(1);
    expect(event?.seq).toBe(1);
    client.send({ type: 'ack', seq: 11 });
    expect((await client.closed).code).toBe(4400);
  });
});

describe('limits', () => {
  it('closes 4008 above MAX_CONNECTIONS_PER_USER (5) and frees the slot on close', async () => {
    const user = uniqueUser('peruser');
    const clients = await Promise.all(Array.from({ length: 5 }, () => connectUser(stack, user)));
    const sixth = await open();
    sixth.send({ type: 'hello', token: await stack.token(user) });
    expect((await sixth.closed).code).toBe(4008);
    await clients[0]?.client.close();
    // closeSession runs after the socket closed: retry until the slot is free.
    let welcomed = false;
    for (let attempt = 0; attempt < 20 && !welcomed; attempt++) {
      const retry = await open();
      retry.send({ type: 'hello', token: await stack.token(user) });
      welcomed = await retry.waitFor('welcome', 2000).then(
        () => true,
        () => false,
      );
      await retry.close();
    }
    expect(welcomed).toBe(true);
    await Promise.all(clients.map(({ client }) => client.close()));
  });

  it('closes 4008 above MAX_CONNECTIONS on one node', async () => {
    const first = await TestWsClient.connect(limited.wsUrl);
    const second = await TestWsClient.connect(limited.wsUrl);
    const third = await TestWsClient.connect(limited.wsUrl);
    expect((await third.closed).code).toBe(4008);
    await Promise.all([first.close(), second.close()]);
  });

  it('refuses a foreign Origin with 403 and accepts a listed one', async () => {
    const refused = await TestWsClient.connect(limited.wsUrl, {
      origin: 'https://evil.example',
    }).catch((error: unknown) => error);
    expect((refused as WsUpgradeError).statusCode).toBe(403);
    const allowed = await TestWsClient.connect(limited.wsUrl, { origin: 'https://app.example' });
    await allowed.close();
  });
});

describe('heartbeats', () => {
  it('sends a heartbeat when nothing else was sent for HEARTBEAT_MS', async () => {
    const client = await TestWsClient.connect(limited.wsUrl);
    const welcome = await client.hello(await stack.token(uniqueUser('beat')));
    expect(welcome.heartbeatMs).toBe(300);
    const started = Date.now();
    const beat = await client.waitFor('heartbeat', 3000);
    expect(typeof beat.ts).toBe('number');
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    await client.close();
  });
});
