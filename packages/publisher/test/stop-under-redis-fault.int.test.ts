import { createKeyLayout } from '@agentwire/redis';
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
const STOP_GRACE_MS = 2000;

let redis: RedisServer | undefined;
let agent: ServiceProcess | undefined;

afterEach(async () => {
  await cleanUpRedisFault(redis, [agent]);
  redis = undefined;
  agent = undefined;
});

/**
 * The demo agent on `server`, once its upstream reader is reading. Its edge
 * is a closed port: its scheduled runs keep retrying their publish, so the
 * stop also has to cut a publish short.
 */
async function startReadingAgent(server: RedisServer): Promise<ServiceProcess> {
  const prefix = uniquePrefix('agent');
  const proc = await startService(
    'demo-agent',
    {
      REDIS_URL: server.url,
      KEY_PREFIX: prefix,
      EDGE_URL: `http://127.0.0.1:${await getFreePort()}`,
      INGEST_TOKEN: 'test-ingest-token',
      STOP_GRACE_MS: String(STOP_GRACE_MS),
      DEMO_INTERVAL_MS: '200',
      LOG_LEVEL: 'info',
    },
    { waitReady: false },
  );
  const probe = new Redis(server.url);
  try {
    const stream = createKeyLayout(prefix, 16).upstream();
    await waitUntil(
      async () => {
        const consumers = (await probe.xinfo('CONSUMERS', stream, 'agents').catch(() => [])) as [
          string,
          string,
        ][];
        return consumers.some((fields) => fields[1] === 'demo-agent');
      },
      10_000,
      50,
      'the demo agent reads the upstream stream',
    );
  } finally {
    probe.disconnect();
  }
  return proc;
}

async function expectCleanExitWithinGrace(proc: ServiceProcess, signalledAt: number) {
  const exit = await proc.exitWithin(STOP_GRACE_MS + 2000);
  expect(exit, proc.output()).toEqual({ code: StopExitCode.clean, signal: null });
  expect(Date.now() - signalledAt).toBeLessThan(STOP_GRACE_MS);
  expect(proc.output()).toContain('"msg":"stopped"');
}

// The demo agent never waits on Redis to stop: a read in progress is walked
// away from (the message stays pending and is delivered again), so it exits
// 0 whatever Redis does, well within STOP_GRACE_MS.
describe('demo agent SIGTERM whatever Redis is doing', () => {
  it('exits 0 while Redis is paused (SIGSTOP)', async () => {
    redis = await startRedis();
    agent = await startReadingAgent(redis);
    redis.signal('SIGSTOP');
    const signalledAt = Date.now();
    agent.signal('SIGTERM');
    await expectCleanExitWithinGrace(agent, signalledAt);
  });

  it('exits 0 while Redis restarts', async () => {
    redis = await startRedis();
    agent = await startReadingAgent(redis);
    await redis.kill('SIGKILL');
    const signalledAt = Date.now();
    agent.signal('SIGTERM');
    await sleep(100);
    await redis.restart();
    await expectCleanExitWithinGrace(agent, signalledAt);
  });

  it('exits 0 when Redis is killed in the middle of the stop', async () => {
    redis = await startRedis();
    agent = await startReadingAgent(redis);
    redis.signal('SIGSTOP');
    const signalledAt = Date.now();
    agent.signal('SIGTERM');
    await waitUntil(() => agent?.output().includes('"msg":"stopping"') ?? false, 2000, 5);
    await redis.kill('SIGKILL');
    await expectCleanExitWithinGrace(agent, signalledAt);
  });
});
