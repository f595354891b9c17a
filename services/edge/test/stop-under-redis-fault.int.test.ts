import { createKeyLayout, type KeyLayout } from '@agentwire/redis';
import { StopExitCode } from '@agentwire/telemetry';
import {
  type RedisServer,
  type ServiceProcess,
  cleanUpRedisFault,
  defaultStackEnv,
  getFreePort,
  signToken,
  sleep,
  startRedis,
  startService,
  TestWsClient,
  waitUntil,
} from '@agentwire/testing';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { uniqueUser } from './support/edge-test-kit.js';

// Each test pauses, kills or restarts a single Redis of its own: one topology run is enough.
const DRAIN_WINDOW_MS = 300;

let redis: RedisServer | undefined;
let edge: ServiceProcess | undefined;
let client: TestWsClient | undefined;

afterEach(async () => {
  client?.socket.terminate();
  await cleanUpRedisFault(redis, [edge]);
  redis = undefined;
  edge = undefined;
  client = undefined;
});

/**
 * An edge on `server` holding one user's connection, so that its stop has a
 * route to clean up in Redis after the drain closes the socket.
 */
async function startEdgeWithUser(server: RedisServer, graceMs: number) {
  const env = defaultStackEnv();
  const keys = createKeyLayout(env.KEY_PREFIX as string, Number(env.SHARDS));
  const user = uniqueUser('stop');
  const proc = await startService('edge', {
    ...env,
    REDIS_URL: server.url,
    NODE_ID: 'edge-stop',
    PORT: String(await getFreePort()),
    DRAIN_WINDOW_MS: String(DRAIN_WINDOW_MS),
    DRAIN_GRACE_MS: String(graceMs),
    LOG_LEVEL: 'info',
  });
  const socket = await TestWsClient.connect(proc.wsUrl);
  await socket.hello(await signToken({ sub: user, secret: env.JWT_SECRET as string }));
  return { proc, socket, keys, user };
}

async function routeCount(url: string, keys: KeyLayout, user: string): Promise<number> {
  const probe = new Redis(url);
  try {
    return await probe.hlen(keys.userRoutes(user));
  } finally {
    probe.disconnect();
  }
}

describe('edge SIGTERM whatever Redis is doing', () => {
  it('exits 3 within DRAIN_GRACE_MS while Redis is paused (SIGSTOP), leaving the route to the reaper', async () => {
    redis = await startRedis();
    const graceMs = 3000;
    const started = await startEdgeWithUser(redis, graceMs);
    ({ proc: edge, socket: client } = started);
    redis.signal('SIGSTOP');
    const signalledAt = Date.now();
    edge.signal('SIGTERM');
    expect((await client.closed).code).toBe(4503);
    const exit = await edge.exitWithin(graceMs + 2000);
    expect(exit, edge.output()).toEqual({ code: StopExitCode.stepsAbandoned, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(graceMs);
    expect(edge.output()).toContain('"step":"route clean-ups and publishes in flight"');
  });

  it('exits 0 within DRAIN_GRACE_MS when Redis restarts during the stop, having removed its route', async () => {
    redis = await startRedis({ appendonly: true, appendfsync: 'always' });
    const graceMs = 5000;
    const started = await startEdgeWithUser(redis, graceMs);
    ({ proc: edge, socket: client } = started);
    expect(await routeCount(redis.url, started.keys, started.user)).toBe(1);
    await redis.kill('SIGKILL');
    const signalledAt = Date.now();
    edge.signal('SIGTERM');
    await sleep(DRAIN_WINDOW_MS);
    await redis.restart();
    const exit = await edge.exitWithin(graceMs + 2000);
    expect(exit, edge.output()).toEqual({ code: StopExitCode.clean, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(graceMs);
    // The route came back with the AOF; the stop removed it once Redis answered.
    expect(await routeCount(redis.url, started.keys, started.user)).toBe(0);
  });

  it('exits 3 within DRAIN_GRACE_MS when Redis is killed in the middle of the stop', async () => {
    redis = await startRedis();
    const graceMs = 3000;
    ({ proc: edge, socket: client } = await startEdgeWithUser(redis, graceMs));
    // Paused first, so the stop is waiting on Redis (the route clean-up) when it dies.
    redis.signal('SIGSTOP');
    const signalledAt = Date.now();
    edge.signal('SIGTERM');
    await client.closed;
    await waitUntil(() => edge?.output().includes('connections drained') ?? false, 2000, 10);
    await sleep(200);
    await redis.kill('SIGKILL');
    const exit = await edge.exitWithin(graceMs + 2000);
    expect(exit, edge.output()).toEqual({ code: StopExitCode.stepsAbandoned, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(graceMs);
  });
});
