import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  getFreePort,
  redisProbe,
  startRedis,
  startRedisCluster,
  startTestRedis,
  TestWsClient,
  testTopology,
  WsUpgradeError,
} from '../src/index.js';

// Everything a test starts is stopped here, even when the test failed half way.
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function listenOn(port: number): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const server = createTcpServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve(() => new Promise<void>((done) => server.close(() => done()))),
    );
  });
}

describe('getFreePort', () => {
  it('gives distinct ports that can be bound on 127.0.0.1', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 8; i++) ports.push(await getFreePort());
    expect(new Set(ports).size).toBe(ports.length);
    // Bind them all at once: each was really free.
    const closers = await Promise.all(ports.map((port) => listenOn(port)));
    await Promise.all(closers.map((close) => close()));
    for (const port of ports) {
      expect(port).toBeGreaterThan(0);
      expect(port).toBeLessThan(65536);
    }
  });
});

describe('startRedis', () => {
  it('answers PING on its url and removes its dir on stop', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(existsSync(redis.dir)).toBe(true);

    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    cleanups.push(async () => client.disconnect());
    expect(await client.ping()).toBe('PONG');
    client.disconnect();

    await redis.stop();
    expect(existsSync(redis.dir)).toBe(false);
    await expect(redisProbe(redis.port, ['PING'])).rejects.toThrow();
  });

  it('keeps a key written before SIGKILL across restart with appendfsync always', async () => {
    const redis = await startRedis({ appendonly: true, appendfsync: 'always' });
    cleanups.push(() => redis.stop());
    const value = `v-${Date.now()}`;
    expect(await redisProbe(redis.port, ['SET', 'durable-key', value])).toBe('OK');

    await redis.kill();
    await expect(redisProbe(redis.port, ['PING'])).rejects.toThrow();

    await redis.restart();
    expect(await redisProbe(redis.port, ['GET', 'durable-key'])).toBe(value);
    // restart() resolves only once the AOF has been replayed.
    expect(await redisProbe(redis.port, ['INFO', 'persistence'])).toMatch(/^loading:0\r?$/m);
  });
});

describe('startRedisCluster', () => {
  it('serves SET/GET of keys in different slots through an ioredis Cluster client', async () => {
    const cluster = await startRedisCluster();
    cleanups.push(() => cluster.stop());
    expect(cluster.ports).toHaveLength(3);
    expect(cluster.nodes).toBe(cluster.ports.map((port) => `127.0.0.1:${port}`).join(','));

    const client = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    cleanups.push(async () => client.disconnect());
    const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`);
    for (const key of keys) await client.set(key, `value-of-${key}`);
    for (const key of keys) expect(await client.get(key)).toBe(`value-of-${key}`);

    // The keys really were spread over the three masters.
    const sizes = await Promise.all(cluster.ports.map((port) => redisProbe(port, ['DBSIZE'])));
    const counts = sizes.map(Number);
    expect(counts.every((count) => count > 0)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(keys.length);
    client.disconnect();
  });
});

describe('startTestRedis', () => {
  it('starts the topology AW_TEST_TOPOLOGY asks for and gives a working client', async () => {
    const redis = await startTestRedis();
    cleanups.push(() => redis.stop());
    expect(redis.topology).toBe(testTopology());
    const envKey = redis.topology === 'cluster' ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
    expect(Object.keys(redis.env)).toEqual([envKey]);
    const client = redis.createClient();
    cleanups.push(async () => client.disconnect());
    await client.set('{t}probe', 'ok');
    expect(await client.get('{t}probe')).toBe('ok');
    client.disconnect();
  });
});

describe('TestWsClient', () => {
  async function startWsServer(
    onConnection: (socket: WebSocket) => void,
  ): Promise<{ url: string; wss: WebSocketServer }> {
    const http: Server = createServer();
    const wss = new WebSocketServer({ noServer: true });
    http.on('upgrade', (req, socket, head) => {
      if (req.headers.authorization !== 'Bearer good') {
        socket.end(
          'HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope',
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
    });
    const port = await getFreePort();
    await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    });
    return { url: `ws://127.0.0.1:${port}/v1/ws`, wss };
  }

  it('records frames, waits for past and future frames, and answers hello', async () => {
    const { url } = await startWsServer((socket) => {
      socket.send(JSON.stringify({ type: 'info', n: 0 }));
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; token?: string };
        if (frame.type === 'hello') {
          socket.send(JSON.stringify({ type: 'welcome', userId: frame.token }));
          for (let seq = 1; seq <= 3; seq++) socket.send(JSON.stringify({ type: 'event', seq }));
          socket.send('not json');
        }
        if (frame.type === 'bye') socket.close(4400, 'bye');
      });
    });
    const client = await TestWsClient.connect(url, { headers: { authorization: 'Bearer good' } });
    cleanups.push(() => client.terminate());

    expect(await client.waitFor('info')).toEqual({ type: 'info', n: 0 });
    const welcome = await client.hello('u1');
    expect(welcome).toEqual({ type: 'welcome', userId: 'u1' });
    const events = await client.waitForEvents(3);
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3]);
    // Already received frames match too.
    expect(await client.waitFor((frame) => frame.seq === 2)).toEqual({ type: 'event', seq: 2 });
    expect(await client.waitFor('invalid-json')).toEqual({ type: 'invalid-json', raw: 'not json' });

    const never = client.waitFor('never', 5000);
    client.send({ type: 'bye' });
    expect(await client.closed).toEqual({ code: 4400, reason: 'bye' });
    await expect(never).rejects.toThrow(/closed \(4400 bye\)/);
  });

  it('rejects a refused upgrade with its HTTP status', async () => {
    const { url } = await startWsServer(() => undefined);
    const error = await TestWsClient.connect(url, {
      headers: { authorization: 'Bearer bad' },
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WsUpgradeError);
    expect((error as WsUpgradeError).statusCode).toBe(401);
  });

  it('stops reading while paused so the sender buffers, and catches up on resume', async () => {
    const total = 400;
    const payload = 'x'.repeat(64 * 1024);
    let serverSocket: WebSocket | undefined;
    const { url } = await startWsServer((socket) => {
      serverSocket = socket;
    });
    const client = await TestWsClient.connect(url, { headers: { authorization: 'Bearer good' } });
    cleanups.push(() => client.terminate());
    client.pause();
    const socket = serverSocket;
    if (!socket) throw new Error('server saw no connection');
    // 25 MiB: more than loopback socket buffers hold, so some must wait in the sender.
    for (let seq = 1; seq <= total; seq++)
      socket.send(JSON.stringify({ type: 'event', seq, payload }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(socket.bufferedAmount).toBeGreaterThan(0);
    expect(client.events().length).toBeLessThan(total);

    client.resume();
    const events = await client.waitForEvents(total, 20_000);
    expect(events.map((event) => event.seq)).toEqual(
      Array.from({ length: total }, (_, i) => i + 1),
    );
  });
});
