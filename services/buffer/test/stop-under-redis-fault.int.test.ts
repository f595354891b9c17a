import { createKeyLayout, type KeyLayout } from '@agentwire/redis';
import {
  type RedisServer,
  type ServiceProcess,
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
// Exit codes of the shared graceful stop (docs/operations.md).
const CLEAN = 0;
const STEPS_ABANDONED = 3;
const SECOND_SIGNAL = 130;

let redis: RedisServer | undefined;
let buffer: ServiceProcess | undefined;

afterEach(async () => {
  redis?.signal('SIGCONT');
  await buffer?.kill();
  await redis?.stop();
  redis = undefined;
  buffer = undefined;
});

/** Every shard's lease key (one single Redis: a multi-key EXISTS is fine). */
function leaseKeys(keys: KeyLayout): string[] {
  return Array.from({ length: SHARDS }, (_, shard) => keys.lease(shard));
}

/** A buffer on `server` that owns every shard; resolves with it and its key layout. */
async function startOwningBuffer(server: RedisServer, env: Record<string, string>) {
  const prefix = uniquePrefix('stop');
  const keys = createKeyLayout(prefix, SHARDS);
  const proc = await startService('buffer', {
    REDIS_URL: server.url,
    KEY_PREFIX: prefix,
    SHARDS: String(SHARDS),
    BUFFER_ID: 'buffer-stop',
    PORT: String(await getFreePort()),
    LOG_LEVEL: 'info',
    ...env,
  });
  const client = new Redis(server.url);
  try {
    await waitUntil(
      async () => (await client.exists(...leaseKeys(keys))) === SHARDS,
      10_000,
      50,
      'the buffer owns every shard',
    );
  } finally {
    client.disconnect();
  }
  return { proc, keys };
}

describe('buffer SIGTERM whatever Redis is doing', () => {
  it('exits 3 within STOP_GRACE_MS while Redis is paused (SIGSTOP), naming what it gave up', async () => {
    redis = await startRedis();
    const graceMs = 3000;
    ({ proc: buffer } = await startOwningBuffer(redis, {
      STOP_GRACE_MS: String(graceMs),
      LEASE_TTL_MS: '1000',
    }));
    redis.signal('SIGSTOP');
    const signalledAt = Date.now();
    buffer.signal('SIGTERM');
    const exit = await buffer.exitWithin(graceMs + 2000);
    const elapsed = Date.now() - signalledAt;
    expect(exit, buffer.output()).toEqual({ code: STEPS_ABANDONED, signal: null });
    expect(elapsed).toBeLessThan(graceMs);
    expect(buffer.output()).toContain('"step":"finish shard batches and release leases"');
  });

  it('exits 0 within STOP_GRACE_MS when Redis restarts during the stop, having released its leases', async () => {
    redis = await startRedis({ appendonly: true, appendfsync: 'always' });
    const graceMs = 5000;
    const started = await startOwningBuffer(redis, {
      STOP_GRACE_MS: String(graceMs),
      LEASE_TTL_MS: '3000',
    });
    buffer = started.proc;
    await redis.kill('SIGKILL');
    const signalledAt = Date.now();
    buffer.signal('SIGTERM');
    await sleep(300);
    await redis.restart();
    const exit = await buffer.exitWithin(graceMs + 2000);
    const elapsed = Date.now() - signalledAt;
    expect(exit, buffer.output()).toEqual({ code: CLEAN, signal: null });
    expect(elapsed).toBeLessThan(graceMs);
    // The leases came back with the AOF, and the stop released them once Redis answered.
    const client = new Redis(redis.url);
    try {
      const { keys } = started;
      expect(await client.exists(...leaseKeys(keys))).toBe(0);
    } finally {
      client.disconnect();
    }
  });

  it('exits 3 within STOP_GRACE_MS when Redis is killed in the middle of the stop', async () => {
    redis = await startRedis();
    const graceMs = 3000;
    ({ proc: buffer } = await startOwningBuffer(redis, {
      STOP_GRACE_MS: String(graceMs),
      LEASE_TTL_MS: '1000',
    }));
    // Paused first, so the stop is waiting on Redis (releasing leases) when it dies.
    redis.signal('SIGSTOP');
    const signalledAt = Date.now();
    buffer.signal('SIGTERM');
    await waitUntil(() => buffer?.output().includes('"msg":"stopping"') ?? false, 2000, 10);
    await sleep(200);
    await redis.kill('SIGKILL');
    const exit = await buffer.exitWithin(graceMs + 2000);
    expect(exit, buffer.output()).toEqual({ code: STEPS_ABANDONED, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(graceMs);
  });

  it('exits 130 at once on a second SIGTERM during a stop held up by Redis', async () => {
    redis = await startRedis();
    ({ proc: buffer } = await startOwningBuffer(redis, { STOP_GRACE_MS: '20000' }));
    redis.signal('SIGSTOP');
    buffer.signal('SIGTERM');
    await waitUntil(() => buffer?.output().includes('"msg":"stopping"') ?? false, 2000, 10);
    await sleep(200);
    const secondAt = Date.now();
    buffer.signal('SIGTERM');
    const exit = await buffer.exitWithin(2000);
    expect(exit, buffer.output()).toEqual({ code: SECOND_SIGNAL, signal: null });
    expect(Date.now() - secondAt).toBeLessThan(500);
    expect(buffer.output()).toContain('second signal during stop');
  });
});
