import { createKeyLayout, type KeyLayout } from '@agentwire/redis';
import { StopExitCode } from '@agentwire/telemetry';
import {
  type RedisServer,
  type ServiceProcess,
  cleanUpRedisFault,
  getFreePort,
  sleep,
  startRedis,
  startService,
  uniquePrefix,
  waitUntil,
} from '@agentwire/testing';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';

// Each test pauses, kills or restarts a single Redis of its own: one topology run is enough.
const SHARDS = 4;
/** A short deadline and lease, so that the bounded steps give up quickly. */
const SHORT = { STOP_GRACE_MS: '3000', LEASE_TTL_MS: '1000' };

let redis: RedisServer | undefined;
let buffer: ServiceProcess | undefined;

afterEach(async () => {
  await cleanUpRedisFault(redis, [buffer]);
  redis = undefined;
  buffer = undefined;
});

/** Every shard's lease key (one single Redis: a multi-key EXISTS is fine). */
function leaseKeys(keys: KeyLayout): string[] {
  return Array.from({ length: SHARDS }, (_, shard) => keys.lease(shard));
}

async function leasesHeld(url: string, keys: KeyLayout): Promise<number> {
  const client = new Redis(url);
  try {
    return await client.exists(...leaseKeys(keys));
  } finally {
    client.disconnect();
  }
}

/** A buffer on `redis` that owns every shard, with its key layout. */
async function startOwningBuffer(env: Record<string, string>) {
  const server = redis as RedisServer;
  const prefix = uniquePrefix('stop');
  const keys = createKeyLayout(prefix, SHARDS);
  buffer = await startService('buffer', {
    REDIS_URL: server.url,
    KEY_PREFIX: prefix,
    SHARDS: String(SHARDS),
    BUFFER_ID: 'buffer-stop',
    PORT: String(await getFreePort()),
    LOG_LEVEL: 'info',
    ...env,
  });
  await waitUntil(
    async () => (await leasesHeld(server.url, keys)) === SHARDS,
    10_000,
    50,
    'the buffer owns every shard',
  );
  return { proc: buffer, keys, graceMs: Number(env.STOP_GRACE_MS) };
}

/** SIGTERM while Redis is paused; resolves once the stop has begun (it waits on Redis). */
async function pauseRedisAndStop(proc: ServiceProcess): Promise<number> {
  redis?.signal('SIGSTOP');
  const signalledAt = Date.now();
  proc.signal('SIGTERM');
  await waitUntil(() => proc.output().includes('"msg":"stopping"'), 2000, 10);
  return signalledAt;
}

/** Waits for the exit (SIGKILL and fail past the deadline plus 2 s); checks its code and time. */
async function expectExit(
  proc: ServiceProcess,
  signalledAt: number,
  graceMs: number,
  code: number,
) {
  const exit = await proc.exitWithin(graceMs + 2000);
  expect(exit, proc.output()).toEqual({ code, signal: null });
  expect(Date.now() - signalledAt).toBeLessThan(graceMs);
}

describe('buffer SIGTERM whatever Redis is doing', () => {
  it('exits 3 within STOP_GRACE_MS while Redis is paused (SIGSTOP), naming what it gave up', async () => {
    redis = await startRedis();
    const { proc, graceMs } = await startOwningBuffer(SHORT);
    const signalledAt = await pauseRedisAndStop(proc);
    await expectExit(proc, signalledAt, graceMs, StopExitCode.stepsAbandoned);
    expect(proc.output()).toContain(
      '"step":"finish shard batches, release leases, stop the history watch"',
    );
  });

  it('exits 0 within STOP_GRACE_MS when Redis restarts during the stop, having released its leases', async () => {
    redis = await startRedis({ appendonly: true, appendfsync: 'always' });
    const { proc, keys, graceMs } = await startOwningBuffer({
      STOP_GRACE_MS: '5000',
      LEASE_TTL_MS: '3000',
    });
    await redis.kill('SIGKILL');
    const signalledAt = Date.now();
    proc.signal('SIGTERM');
    await sleep(300);
    await redis.restart();
    await expectExit(proc, signalledAt, graceMs, StopExitCode.clean);
    // The leases came back with the AOF, and the stop released them once Redis answered.
    expect(await leasesHeld(redis.url, keys)).toBe(0);
  });

  it('exits 3 within STOP_GRACE_MS when Redis is killed in the middle of the stop', async () => {
    redis = await startRedis();
    const { proc, graceMs } = await startOwningBuffer(SHORT);
    // Paused first, so the stop is waiting on Redis (releasing leases) when it dies.
    const signalledAt = await pauseRedisAndStop(proc);
    await sleep(200);
    await redis.kill('SIGKILL');
    await expectExit(proc, signalledAt, graceMs, StopExitCode.stepsAbandoned);
  });

  it('exits 130 at once on a second SIGTERM during a stop held up by Redis', async () => {
    redis = await startRedis();
    const { proc } = await startOwningBuffer({ STOP_GRACE_MS: '20000' });
    await pauseRedisAndStop(proc);
    await sleep(200);
    const secondAt = Date.now();
    proc.signal('SIGTERM');
    await expectExit(proc, secondAt, 500, StopExitCode.repeatedSignal);
    expect(proc.output()).toContain('second signal during stop');
  });
});
